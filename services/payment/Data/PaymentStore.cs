using Dapper;
using Npgsql;

namespace OrderStream.Payment.Data;

/// <summary>Payments and closed orders. Every change to one order first takes that order's lock.</summary>
public static class PaymentStore
{
    // A transaction-scoped advisory lock per order: a reservation and a release of the same order,
    // handled at once (different topics, so different partitions), would otherwise both see "no
    // payment yet" and one could authorize an order the other just closed.
    private const string LockSql = "SELECT pg_advisory_xact_lock(hashtextextended(@OrderId::text, 0))";

    public static Task LockOrderAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(LockSql, new { OrderId = orderId }, tx, cancellationToken: ct));

    // Two statements in one round trip: the second takes its snapshot after the lock is held, so it
    // sees a closure committed by whoever held the lock before (one statement would not).
    private const string LockAndIsClosedSql = """
        SELECT 1 FROM pg_advisory_xact_lock(hashtextextended(@OrderId::text, 0));
        SELECT EXISTS (SELECT 1 FROM closed_orders WHERE order_id = @OrderId);
        """;

    /// <summary>Takes the order's lock and says whether inventory closed the order before payment decided.</summary>
    public static async Task<bool> LockAndIsClosedAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct)
    {
        await using var results = await tx.Connection!.QueryMultipleAsync(new CommandDefinition(LockAndIsClosedSql, new { OrderId = orderId }, tx, cancellationToken: ct));
        await results.ReadSingleAsync<int>();
        return await results.ReadSingleAsync<bool>();
    }

    private const string CloseSql = "INSERT INTO closed_orders (order_id, reason) VALUES (@OrderId, @Reason) ON CONFLICT DO NOTHING";

    public static Task CloseAsync(NpgsqlTransaction tx, Guid orderId, string reason, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(CloseSql, new { OrderId = orderId, Reason = reason }, tx, cancellationToken: ct));

    public sealed record Payment(Guid PaymentId, string Status, decimal Amount, string Currency);

    private const string GetSql = "SELECT payment_id AS PaymentId, status, amount, currency FROM payments WHERE order_id = @OrderId FOR UPDATE";

    public static Task<Payment?> GetAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct) =>
        tx.Connection!.QuerySingleOrDefaultAsync<Payment?>(new CommandDefinition(GetSql, new { OrderId = orderId }, tx, cancellationToken: ct));

    // Only an AUTHORIZED payment moves; the count check makes a second move impossible to miss.
    private const string SetStatusSql = """
        UPDATE payments SET status = @Status, reason = @Reason, updated_at = now() WHERE order_id = @OrderId AND status = 'AUTHORIZED'
        """;

    public static async Task MoveFromAuthorizedAsync(NpgsqlTransaction tx, Guid orderId, string status, string reason, CancellationToken ct)
    {
        var changed = await tx.Connection!.ExecuteAsync(new CommandDefinition(SetStatusSql, new { OrderId = orderId, Status = status, Reason = reason }, tx, cancellationToken: ct));
        if (changed != 1) throw new InvalidOperationException($"Order {orderId}: payment not AUTHORIZED, cannot become {status}");
    }
}
