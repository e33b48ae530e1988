using Dapper;
using Npgsql;

namespace OrderStream.Inventory.Data;

/// <summary>
/// <c>inventory_orders</c>: one row per order inventory acted on, locked first by every change to the
/// order, so the handlers and the deadline scanner of one order run one after the other.
/// </summary>
public static class OrderHoldStore
{
    // The insert waits for a concurrent transaction that inserted the same order, then does nothing;
    // the select then sees (and locks) the committed row.
    private const string LockOrCreateSql = """
        INSERT INTO inventory_orders (order_id, status) VALUES (@OrderId, 'NEW') ON CONFLICT DO NOTHING;
        SELECT status FROM inventory_orders WHERE order_id = @OrderId FOR UPDATE;
        """;

    private const string LockSql = "SELECT status FROM inventory_orders WHERE order_id = @OrderId FOR UPDATE";

    /// <summary>Locks the order's row, creating it as NEW if inventory has not seen the order; returns its status.</summary>
    public static Task<string> LockOrCreateAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct) =>
        tx.Connection!.QuerySingleAsync<string>(new CommandDefinition(LockOrCreateSql, new { OrderId = orderId }, tx, cancellationToken: ct));

    /// <summary>Locks the order's row; null if inventory never saw the order.</summary>
    public static Task<string?> LockAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct) =>
        tx.Connection!.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(LockSql, new { OrderId = orderId }, tx, cancellationToken: ct));

    private const string ReservedSql = """
        UPDATE inventory_orders SET status = 'RESERVED', reserved_at = now(), traceparent = @TraceParent, tracestate = @TraceState, updated_at = now()
        WHERE order_id = @OrderId
        """;

    /// <summary>Marks the order reserved now (the deadline counts from here), with the trace to continue if the deadline releases it.</summary>
    public static Task MarkReservedAsync(NpgsqlTransaction tx, Guid orderId, (string? TraceParent, string? TraceState) trace, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(ReservedSql, new { OrderId = orderId, trace.TraceParent, trace.TraceState }, tx, cancellationToken: ct));

    private const string SetSql = "UPDATE inventory_orders SET status = @Status, reason = @Reason, updated_at = now() WHERE order_id = @OrderId";

    public static Task SetAsync(NpgsqlTransaction tx, Guid orderId, string status, string? reason, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(SetSql, new { OrderId = orderId, Status = status, Reason = reason }, tx, cancellationToken: ct));

    private const string DueSql = """
        SELECT order_id FROM inventory_orders
        WHERE status = 'RESERVED' AND reserved_at <= now() - @Deadline
        ORDER BY reserved_at LIMIT @Limit
        """;

    /// <summary>Orders whose reservation is older than the deadline (candidates: each is re-checked under its lock).</summary>
    public static async Task<IReadOnlyList<Guid>> DueAsync(NpgsqlDataSource db, TimeSpan deadline, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<Guid>(new CommandDefinition(DueSql, new { Deadline = deadline, Limit = limit }, cancellationToken: ct))).AsList();
    }

    public sealed record Hold(string Status, DateTimeOffset ReservedAt, DateTimeOffset Now, string? TraceParent, string? TraceState);

    // SKIP LOCKED: an order a handler is working on right now (say, its payment result) is left to it.
    private const string LockDueSql = """
        SELECT status, reserved_at AS ReservedAt, now() AS Now, traceparent, tracestate
        FROM inventory_orders WHERE order_id = @OrderId AND status = 'RESERVED' FOR UPDATE SKIP LOCKED
        """;

    public static async Task<Hold?> LockReservedAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct)
    {
        var row = await tx.Connection!.QuerySingleOrDefaultAsync<(string Status, DateTime ReservedAt, DateTime Now, string? TraceParent, string? TraceState)?>(
            new CommandDefinition(LockDueSql, new { OrderId = orderId }, tx, cancellationToken: ct));
        return row is { } r ? new Hold(r.Status, Utc(r.ReservedAt), Utc(r.Now), r.TraceParent, r.TraceState) : null;
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
