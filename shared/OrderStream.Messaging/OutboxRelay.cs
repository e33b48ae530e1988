using System.Text;
using Confluent.Kafka;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.Messaging;

/// <summary>
/// The only publisher: reads unsent outbox rows in id order, produces them (idempotent, acks=all)
/// and stamps them sent. A batch stops at the first failed delivery so that a later event of an order
/// never overtakes an earlier one; the unsent rest is retried, and consumers drop the duplicates.
/// </summary>
public sealed partial class OutboxRelay(
    NpgsqlDataSource db,
    KafkaProducer producer,
    OutboxSignal signal,
    IOptions<OutboxOptions> options,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    // Only one relay per outbox works at a time (a transaction-scoped advisory lock), so two instances
    // of a service never publish one order's events out of order. Reading by id order (not by an id
    // high-water mark) is safe because an order's later event is always committed after its earlier one.
    private const string LockSql = "SELECT pg_try_advisory_xact_lock(hashtext('orderstream.outbox'))";

    private const string SelectSql = """
        SELECT id, event_id AS EventId, topic, msg_key AS Key, event_type AS EventType, payload,
               traceparent AS TraceParent, tracestate AS TraceState
        FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT @Limit
        """;

    private const string MarkSentSql = "UPDATE outbox SET sent_at = now() WHERE id = ANY(@Ids)";

    private const string BacklogSql = """
        SELECT count(*) AS Depth, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS OldestAgeSeconds
        FROM outbox WHERE sent_at IS NULL
        """;

    private volatile Backlog _backlog = new(0, 0);
    private long _backlogMeasuredAt;

    private sealed record Backlog(long Depth, double OldestAgeSeconds);

    private void RegisterMetrics()
    {
        MessagingTelemetry.Meter.CreateObservableGauge("orderstream.outbox.depth", () => _backlog.Depth, "{event}", "Outbox rows not yet published");
        MessagingTelemetry.Meter.CreateObservableGauge("orderstream.outbox.oldest_unsent_age", () => _backlog.OldestAgeSeconds, "s", "Age of the oldest unpublished outbox row");
    }

    // Measured every few seconds, not per batch, so the metric costs one indexed query now and then.
    private async Task MeasureBacklogAsync(CancellationToken ct)
    {
        if (Environment.TickCount64 - _backlogMeasuredAt < 5_000) return;
        _backlogMeasuredAt = Environment.TickCount64;
        await using var conn = await db.OpenConnectionAsync(ct);
        _backlog = await conn.QuerySingleAsync<Backlog>(new CommandDefinition(BacklogSql, cancellationToken: ct));
    }

    private sealed record Row(long Id, Guid EventId, string Topic, string Key, string EventType, byte[] Payload, string? TraceParent, string? TraceState);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        RegisterMetrics();
        var pollInterval = TimeSpan.FromMilliseconds(options.Value.PollIntervalMs);
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                int published;
                do
                {
                    await MeasureBacklogAsync(stoppingToken);
                    published = await PublishBatchAsync(stoppingToken);
                }
                while (published > 0 && !stoppingToken.IsCancellationRequested);
                failures = 0;
                await signal.WaitAsync(pollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Database or broker trouble: back off (capped) and try again; rows stay unsent, never lost.
                failures++;
                var delay = TimeSpan.FromMilliseconds(Math.Min(5_000, 50 * Math.Pow(2, Math.Min(failures, 10))));
                LogRelayFailed(ex, delay.TotalMilliseconds);
                producer.ReplaceIfFatal(ex);
                try { await Task.Delay(delay, stoppingToken); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Publishes one batch; returns how many rows were marked sent (0 when idle or another relay holds the lock).</summary>
    public async Task<int> PublishBatchAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(LockSql, transaction: tx, cancellationToken: ct)))
            return 0;

        var rows = (await conn.QueryAsync<Row>(new CommandDefinition(SelectSql, new { Limit = options.Value.BatchSize }, tx, cancellationToken: ct))).AsList();
        if (rows.Count == 0) return 0;

        var kafka = producer.Current;
        var deliveries = new Task[rows.Count];
        for (var i = 0; i < rows.Count; i++)
            deliveries[i] = ProduceAsync(kafka, rows[i], ct);

        var sent = new List<long>(rows.Count);
        Exception? failure = null;
        for (var i = 0; i < rows.Count; i++)
        {
            try { await deliveries[i]; }
            catch (Exception ex) { failure = ex; break; }
            sent.Add(rows[i].Id);
        }

        if (sent.Count > 0)
        {
            await conn.ExecuteAsync(new CommandDefinition(MarkSentSql, new { Ids = sent.ToArray() }, tx, cancellationToken: ct));
            await tx.CommitAsync(ct);
        }

        if (failure is not null) throw new KafkaPublishException($"Publishing stopped after {sent.Count} of {rows.Count} outbox rows", failure);
        return sent.Count;
    }

    private static async Task ProduceAsync(IProducer<byte[]?, byte[]?> kafka, Row row, CancellationToken ct)
    {
        using var activity = MessagingTelemetry.StartPublish(row.Topic, row.Key, row.EventId, row.EventType, row.TraceParent, row.TraceState);
        var headers = new Confluent.Kafka.Headers
        {
            { Contracts.Headers.EventType, Encoding.UTF8.GetBytes(row.EventType) },
            { Contracts.Headers.EventId, Encoding.UTF8.GetBytes(row.EventId.ToString()) },
        };
        // The publish span continues the trace of the request that wrote the row; without a listener
        // the stored context is passed through unchanged.
        var traceParent = activity?.Id ?? row.TraceParent;
        var traceState = activity is null ? row.TraceState : activity.TraceStateString;
        if (traceParent is not null) headers.Add(Contracts.Headers.TraceParent, Encoding.UTF8.GetBytes(traceParent));
        if (traceState is not null) headers.Add(Contracts.Headers.TraceState, Encoding.UTF8.GetBytes(traceState));

        var result = await kafka.ProduceAsync(row.Topic, new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes(row.Key), Value = row.Payload, Headers = headers }, ct);
        activity?.SetTag("messaging.destination.partition.id", result.Partition.Value.ToString());
        activity?.SetTag("messaging.kafka.offset", result.Offset.Value);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay failed; retrying in {DelayMs} ms")]
    private partial void LogRelayFailed(Exception ex, double delayMs);
}

public sealed class KafkaPublishException(string message, Exception inner) : Exception(message, inner);
