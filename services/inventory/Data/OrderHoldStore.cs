using Dapper;
using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.Inventory.Data;

/// <summary>
/// <c>inventory_orders</c> as the deadline scanner sees it: reservations that waited too long for their
/// payment result. (The saga handlers lock and change the rows through <see cref="StockBookStore"/>.)
/// </summary>
public static class OrderHoldStore
{
    public sealed record DueHold(Guid OrderId, DateTimeOffset ReservedAt, DateTimeOffset Now, string? TraceParent, string? TraceState);

    // SKIP LOCKED: an order a handler is working on right now (say, its payment result) is left to it, and
    // the scanner never waits on an order row, so it cannot close a cycle with the handlers.
    // The status stays a literal to PostgreSQL (a constant spliced in), so the partial index
    // inventory_orders_reserved (WHERE status = 'RESERVED') still matches every plan.
    private const string LockDueSql = $$"""
        SELECT order_id, reserved_at, now() AS now, traceparent, tracestate FROM inventory_orders
        WHERE status = '{{HoldStatus.Reserved}}' AND reserved_at <= now() - @Deadline
        ORDER BY reserved_at LIMIT @Limit FOR UPDATE SKIP LOCKED
        """;

    /// <summary>Locks up to <paramref name="limit"/> reservations older than the deadline, oldest first.</summary>
    public static async Task<IReadOnlyList<DueHold>> LockDueAsync(NpgsqlTransaction tx, TimeSpan deadline, int limit, CancellationToken ct)
    {
        var rows = await tx.Connection!.QueryAsync<(Guid OrderId, DateTime ReservedAt, DateTime Now, string? TraceParent, string? TraceState)>(
            new CommandDefinition(LockDueSql, new { Deadline = deadline, Limit = limit }, tx, cancellationToken: ct));
        return rows.Select(r => new DueHold(r.OrderId, Utc(r.ReservedAt), Utc(r.Now), r.TraceParent, r.TraceState)).ToList();
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
