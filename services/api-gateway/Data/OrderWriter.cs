using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using OrderStream.ApiGateway.Validation;
using OrderStream.Messaging;

namespace OrderStream.ApiGateway.Data;

/// <summary>Bound from <c>Gateway</c> (<c>Gateway__AcceptBatchSize</c>, <c>Gateway__PollWait</c>).</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>The most orders one transaction writes. Batches are as large as the queue at the moment, up to this.</summary>
    [Range(1, 10_000)] public int AcceptBatchSize { get; set; } = 256;

    /// <summary>
    /// How long <c>GET /orders/{id}</c> of a pending order waits for the order to settle before it answers
    /// 202, when the request does not say (<c>Prefer: wait=N</c>). 0 answers at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:30")] public TimeSpan PollWait { get; set; } = TimeSpan.FromSeconds(1);
}

/// <summary>
/// Group commit for <c>POST /orders</c>: concurrent requests share one transaction. One loop takes the
/// first queued order, then whatever else is queued by then, and writes them all with
/// <see cref="OrderStore.AcceptAsync"/>: one statement, one commit. There is no waiting window, so a lone request
/// costs what it always did, and batches grow with the load (while one commits, the next queues up).
/// Each request gets its answer only after the commit that holds its order.
/// </summary>
public sealed class OrderWriter(NpgsqlDataSource db, OutboxSignal signal, IOptions<GatewayOptions> options, ILogger<OrderWriter> logger) : BackgroundService
{
    private sealed record Pending(NewOrder Order, Activity? Activity, CancellationToken ClientGone)
    {
        public TaskCompletionSource<(AcceptOutcome, Guid)> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    // Unbounded: every entry is a request Kestrel and the rate limiter already admitted, and it waits for its answer.
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });

    public async Task<(AcceptOutcome Outcome, Guid OrderId)> AcceptAsync(ValidOrder order, string? idempotencyKey, CancellationToken ct)
    {
        var pending = new Pending(NewOrder.Prepare(order, idempotencyKey), Activity.Current, ct);
        if (!_queue.Writer.TryWrite(pending)) throw new OperationCanceledException("The gateway is shutting down");
        // A client that gives up stops waiting here; the batch its order is in goes on for the others.
        return await pending.Result.Task.WaitAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<Pending>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < options.Value.AcceptBatchSize && _queue.Reader.TryRead(out var next))
                {
                    // Its client left before the order was written: write nothing, as a cancelled request always did.
                    if (next.ClientGone.IsCancellationRequested) next.Result.TrySetCanceled(next.ClientGone);
                    else batch.Add(next);
                }
                // Not cancelled by shutdown: the web server stops first and waits for these requests.
                if (batch.Count > 0) await WriteAsync(batch);
                batch.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        finally
        {
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var left)) left.Result.TrySetException(new OperationCanceledException("The gateway is shutting down"));
        }
    }

    private async Task WriteAsync(List<Pending> batch)
    {
        try
        {
            Complete(batch, await TransactAsync(batch));
        }
        catch (Exception ex) when (batch.Count > 1 && !Transient.IsTransient(ex))
        {
            // One request's data may have failed the whole batch: each alone, so only that request fails.
            logger.LogWarning(ex, "A batch of {Count} orders failed; writing them one by one", batch.Count);
            foreach (var pending in batch)
            {
                try { Complete([pending], await TransactAsync([pending])); }
                catch (Exception alone) { pending.Result.TrySetException(alone); }
            }
        }
        catch (Exception ex)
        {
            // The database is unreachable (or the batch lost a conflict): no request would have fared better
            // alone, and retrying each would only delay their 503 + Retry-After.
            foreach (var pending in batch) pending.Result.TrySetException(ex);
        }
    }

    private async Task<List<(AcceptOutcome, Guid)>> TransactAsync(List<Pending> batch)
    {
        // The transaction's database spans join the first request's trace: a batch of one is traced as
        // before; the other requests of a batch still get their own trace through their outbox rows.
        var outer = Activity.Current;
        Activity.Current = batch[0].Activity;
        try
        {
            await using var conn = await db.OpenConnectionAsync();
            var outcomes = await OrderStore.AcceptAsync(conn, batch.Select(p => p.Order).ToList(), CancellationToken.None);
            if (outcomes.Any(o => o.Outcome == AcceptOutcome.Created)) signal.Notify();
            return outcomes;
        }
        finally
        {
            Activity.Current = outer;
        }
    }

    private static void Complete(List<Pending> batch, List<(AcceptOutcome, Guid)> outcomes)
    {
        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].Activity?.SetTag("order.accept.batch_size", batch.Count);
            batch[i].Result.TrySetResult(outcomes[i]);
        }
    }
}

public static class OrderWriterServices
{
    public static IServiceCollection AddOrderWriter(this IServiceCollection services)
    {
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<OrderWriter>();
        services.AddHostedService(sp => sp.GetRequiredService<OrderWriter>());
        return services;
    }
}
