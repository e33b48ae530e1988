using Dapper;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.Payment.Domain;

namespace OrderStream.Payment.Data;

/// <summary>Payments and closed orders, loaded and written back a batch of orders at a time.</summary>
public static class PaymentStore
{
    // A transaction-scoped advisory lock per order: a reservation and a release of the same order,
    // handled at once (different topics, so different partitions), would otherwise both see "no
    // payment yet" and one could authorize an order the other just closed. Taken in key order, so two
    // batches sharing orders wait for each other instead of deadlocking.
    // The reads are separate statements of the same round trip: each takes its snapshot after the
    // locks are held, so it sees what whoever held them before committed (one statement would not).
    private const string LoadSql = """
        SELECT count(pg_advisory_xact_lock(k)) FROM (
            SELECT DISTINCT hashtextextended(id::text, 0) AS k FROM unnest(@OrderIds) AS id ORDER BY k) AS keys;
        SELECT order_id AS OrderId, payment_id AS PaymentId, status, amount, trim(currency) AS Currency, reason
        FROM payments WHERE order_id = ANY(@OrderIds) FOR UPDATE;
        SELECT order_id FROM closed_orders WHERE order_id = ANY(@OrderIds);
        """;

    public static async Task<PaymentBook> LoadAsync(NpgsqlTransaction tx, IEnumerable<Guid> orderIds, CancellationToken ct)
    {
        var ids = orderIds.Distinct().ToArray();
        await using var results = await tx.Connection!.QueryMultipleAsync(new CommandDefinition(LoadSql, new { OrderIds = ids }, tx, cancellationToken: ct));
        await results.ReadSingleAsync<long>();
        var payments = await results.ReadAsync<PaymentRecord>();
        var closed = await results.ReadAsync<Guid>();
        return new PaymentBook(payments, closed);
    }

    // No ON CONFLICT on the new payments: the book saw no row while holding the order's lock, so a
    // conflict would mean a decision published for a payment that was not recorded; better to fail.
    // The status is spliced in as a constant: the text PostgreSQL gets is the same literal as before.
    private const string SaveSql = $$"""
        INSERT INTO payments (order_id, payment_id, status, amount, currency, reason)
        SELECT * FROM unnest(@DecidedOrderIds, @DecidedPaymentIds, @DecidedStatuses, @DecidedAmounts, @DecidedCurrencies, @DecidedReasons);
        UPDATE payments p SET status = u.status, reason = u.reason, updated_at = now()
        FROM unnest(@MovedOrderIds, @MovedStatuses, @MovedReasons) AS u(order_id, status, reason)
        WHERE p.order_id = u.order_id AND p.order_id = ANY(@MovedOrderIds) AND p.status = '{{PaymentStatus.Authorized}}';
        INSERT INTO closed_orders (order_id, reason) SELECT * FROM unnest(@ClosedOrderIds, @ClosedReasons) ON CONFLICT DO NOTHING;
        """;

    public static async Task SaveAsync(NpgsqlTransaction tx, PaymentChanges changes, CancellationToken ct)
    {
        if (changes.IsEmpty) return;
        var (decided, moved, closed) = (changes.Decided, changes.Moved, changes.Closed);
        var written = await tx.Connection!.ExecuteAsync(new CommandDefinition(SaveSql, new
        {
            DecidedOrderIds = decided.Select(p => p.OrderId).ToArray(),
            DecidedPaymentIds = decided.Select(p => p.PaymentId).ToArray(),
            DecidedStatuses = decided.Select(p => p.Status).ToArray(),
            DecidedAmounts = decided.Select(p => p.Amount).ToArray(),
            DecidedCurrencies = decided.Select(p => p.Currency).ToArray(),
            DecidedReasons = decided.Select(p => p.Reason).ToArray(),
            MovedOrderIds = moved.Select(p => p.OrderId).ToArray(),
            MovedStatuses = moved.Select(p => p.Status).ToArray(),
            MovedReasons = moved.Select(p => p.Reason).ToArray(),
            ClosedOrderIds = closed.Select(c => c.OrderId).ToArray(),
            ClosedReasons = closed.Select(c => c.Reason).ToArray(),
        }, tx, cancellationToken: ct));
        // Every row is locked and was read by the book: anything else than all of them written is a bug.
        if (written != decided.Count + moved.Count + closed.Count)
            throw new InvalidOperationException($"Payment batch wrote {written} rows, expected {decided.Count + moved.Count + closed.Count}");
    }
}
