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
/// released with reason SAGA_TIMEOUT, in one transaction with its inventory.released event. Each order
/// gets its own transaction under its row lock (SKIP LOCKED: a payment result being applied right now
/// wins), so the release happens exactly once, even with several inventory instances, and a payment
/// result that comes later finds the order RELEASED and sells nothing.
/// </summary>
public sealed partial class ExpireReservations(NpgsqlDataSource db, OutboxSignal signal, IOptions<SagaOptions> options, ILogger<ExpireReservations> logger)
    : BackgroundService
{
    private static readonly Meter Meter = new("OrderStream.Inventory");
    private static readonly Counter<long> Expired = Meter.CreateCounter<long>("orderstream.saga.timeouts", "{order}", "Reservations released by the saga deadline");

    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        var settings = options.Value;
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
        while (true)
        {
            var due = await OrderHoldStore.DueAsync(db, settings.Deadline, settings.BatchSize, ct);
            foreach (var orderId in due)
                if (await ExpireAsync(orderId, settings.Deadline, ct)) Expired.Add(1);
            if (due.Count < settings.BatchSize) return;
        }
    }

    private async Task<bool> ExpireAsync(Guid orderId, TimeSpan deadline, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var hold = await OrderHoldStore.LockReservedAsync(tx, orderId, ct);
        if (hold is null || OrderHold.OnDeadline(hold.Status, hold.ReservedAt, hold.Now, deadline) != StockAction.Release) return false;

        // Continue the order's trace, so the timeout shows in it like any other saga step.
        using var activity = MessagingTelemetry.Source.StartActivity("saga deadline", ActivityKind.Internal,
            MessagingTelemetry.ParseParent(hold.TraceParent, hold.TraceState));
        activity?.SetTag("order.id", orderId.ToString());

        var released = await StockStore.ReleaseAsync(tx, orderId, ct);
        await OrderHoldStore.SetAsync(tx, orderId, HoldStatus.Released, FailureReasons.SagaTimeout, ct);
        await Outbox.WriteAsync(tx, [OutgoingEvent.For(new InventoryReleasedV1(orderId, released, FailureReasons.SagaTimeout))], causationId: null, ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        LogExpired(orderId, (hold.Now - hold.ReservedAt).TotalSeconds);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Order {OrderId}: no payment result {AgeSeconds:0.#} s after its reservation; released (SAGA_TIMEOUT)")]
    private partial void LogExpired(Guid orderId, double ageSeconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saga deadline scan failed ({Error}); retrying at the next interval")]
    private partial void LogScanFailed(string error, Exception exception);
}
