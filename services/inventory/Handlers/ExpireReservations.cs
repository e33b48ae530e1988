using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>
/// The saga deadline. Inventory owns reservations, so it is the one that gives up on them: every scan
/// interval, each reservation older than <see cref="SagaOptions.Deadline"/> with no payment result is
/// released with reason SAGA_TIMEOUT, in one transaction with its inventory.released event. The
/// orders are taken under their row locks (SKIP LOCKED: a payment result being applied right now wins),
/// so the release happens exactly once, even with several inventory instances, and a payment result
/// that comes later finds the order RELEASED and sells nothing.
/// </summary>
public sealed partial class ExpireReservations(NpgsqlDataSource db, OutboxSignal signal, IOptions<SagaOptions> options, ILogger<ExpireReservations> logger)
    : BackgroundService
{
    private static readonly Meter Meter = new("OrderStream.Inventory");
    private static readonly Counter<long> Expired = Meter.CreateCounter<long>("orderstream.saga.timeouts", "{order}", "Reservations released by the saga deadline");

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var settings = options.Value;
        Expired.Add(0); // on /metrics from the start: 0 timeouts, not "no data"
        using var timer = new PeriodicTimer(settings.ScanInterval);
        while (await timer.WaitForNextTickAsync(ct))
        {
            try
            {
                await ScanAsync(settings, ct);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // The scanner must outlive a database outage; the next tick tries again.
                LogScanFailed(ex.Message, ex);
            }
        }
    }

    private async Task ScanAsync(SagaOptions settings, CancellationToken ct)
    {
        while (await ExpireBatchAsync(settings, ct) == settings.BatchSize) { }
    }

    /// <summary>Releases up to a batch of overdue reservations in one transaction; returns how many it found.</summary>
    private async Task<int> ExpireBatchAsync(SagaOptions settings, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var due = await OrderHoldStore.LockDueAsync(tx, settings.Deadline, settings.BatchSize, ct);
        if (due.Count == 0) return 0;

        var book = await StockBookStore.LoadAsync(tx, due.Select(d => d.OrderId), [], ct);
        var outbox = new List<OutboxRow>(due.Count);
        var expired = new List<OrderHoldStore.DueHold>(due.Count);
        foreach (var hold in due)
        {
            if (OrderHold.OnDeadline(book.Status(hold.OrderId), hold.ReservedAt, hold.Now, settings.Deadline) != StockAction.Release) continue;
            // Continue the order's trace, so the timeout shows in it like any other saga step.
            using var activity = MessagingTelemetry.Source.StartActivity("saga deadline", ActivityKind.Internal,
                MessagingTelemetry.ParseParent(hold.TraceParent, hold.TraceState));
            activity?.SetTag("order.id", hold.OrderId.ToString());
            var released = book.Release(hold.OrderId, FailureReasons.SagaTimeout);
            Outbox.Prepare(outbox, [OutgoingEvent.For(new InventoryReleasedV1(hold.OrderId, released, FailureReasons.SagaTimeout))], causationId: null);
            expired.Add(hold);
        }
        await StockBookStore.SaveAsync(tx, book.Changes(), ct);
        await Outbox.InsertAsync(tx, outbox, ct);
        await tx.CommitAsync(ct);
        if (expired.Count > 0) signal.Notify();
        Expired.Add(expired.Count);
        foreach (var hold in expired) LogExpired(hold.OrderId, (hold.Now - hold.ReservedAt).TotalSeconds);
        return due.Count;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderId}: no payment result {AgeSeconds:0.#} s after its reservation; released (" + FailureReasons.SagaTimeout + ")")]
    private partial void LogExpired(Guid orderId, double ageSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saga deadline scan failed ({Error}); retrying at the next interval")]
    private partial void LogScanFailed(string error, Exception exception);
}
