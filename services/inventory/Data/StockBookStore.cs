using Dapper;
using Npgsql;
using OrderStream.Inventory.Domain;

namespace OrderStream.Inventory.Data;

/// <summary>
/// Loads a transaction's <see cref="StockBook"/> in one round trip and writes its changes back in
/// another. Locks are taken in one global order, order rows (by id) before stock rows (by SKU), as
/// the deadline scanner and the stock adjustments do too, so transactions never wait on each other in a cycle.
/// </summary>
public static class StockBookStore
{
    // 1. A row for each order inventory has not seen, inserted in id order (an insert that meets another
    //    transaction's uncommitted row waits for it, then does nothing), so both sides of a race, say an
    //    order.created and its cancel read by two instances, take turns on one row.
    // 2. Every order row locked, in id order.
    // 3. The stock rows of the SKUs asked for and of every line those orders hold, locked in SKU order.
    // 4. The orders' lines, stable now that their orders are locked.
    // The "= ANY(...)" lookups keep the prepared (generic) plans on the primary keys.
    private const string LoadSql = """
        INSERT INTO inventory_orders (order_id, status)
        SELECT id, 'NEW' FROM (
            SELECT id FROM unnest(@OrderIds) AS id
            EXCEPT SELECT order_id FROM inventory_orders WHERE order_id = ANY(@OrderIds)
        ) AS missing ORDER BY id
        ON CONFLICT DO NOTHING;
        SELECT order_id AS OrderId, status FROM inventory_orders WHERE order_id = ANY(@OrderIds) ORDER BY order_id FOR UPDATE;
        SELECT sku, available, reserved, sold FROM stock
        WHERE sku = ANY(@Skus) OR sku IN (SELECT sku FROM reservations WHERE order_id = ANY(@OrderIds))
        ORDER BY sku FOR UPDATE;
        SELECT order_id AS OrderId, sku, qty, status FROM reservations WHERE order_id = ANY(@OrderIds);
        """;

    /// <summary>Locks the orders (creating those inventory has not seen as NEW) and the stock they hold or ask for, and loads them.</summary>
    public static async Task<StockBook> LoadAsync(NpgsqlTransaction tx, IEnumerable<Guid> orderIds, IEnumerable<string> skus, CancellationToken ct)
    {
        var args = new { OrderIds = orderIds.Distinct().Order().ToArray(), Skus = skus.Distinct(StringComparer.Ordinal).ToArray() };
        await using var results = await tx.Connection!.QueryMultipleAsync(new CommandDefinition(LoadSql, args, tx, cancellationToken: ct));
        var holds = (await results.ReadAsync<(Guid OrderId, string Status)>()).ToDictionary(h => h.OrderId, h => h.Status);
        var stock = await results.ReadAsync<StockLevel>();
        var lines = await results.ReadAsync<StockBook.Line>();
        return new StockBook(holds, lines, stock);
    }

    // The stock rows get the book's figures (they have been locked since the load); CHECK (... >= 0)
    // guards them once more. A line is new (insert) or moved to another status (update).
    private const string SaveSql = """
        UPDATE inventory_orders o SET
            status = u.status, reason = u.reason,
            reserved_at = CASE WHEN u.reserved THEN now() ELSE o.reserved_at END,
            traceparent = CASE WHEN u.reserved THEN u.traceparent ELSE o.traceparent END,
            tracestate = CASE WHEN u.reserved THEN u.tracestate ELSE o.tracestate END,
            updated_at = now()
        FROM unnest(@OrderIds, @Statuses, @Reasons, @Reserved, @TraceParents, @TraceStates)
             AS u(order_id, status, reason, reserved, traceparent, tracestate)
        WHERE o.order_id = u.order_id AND o.order_id = ANY(@OrderIds);
        DELETE FROM inventory_orders WHERE order_id = ANY(@Unused) AND status = 'NEW';
        UPDATE stock s SET available = u.available, reserved = u.reserved, sold = u.sold
        FROM unnest(@Skus, @Available, @ReservedUnits, @SoldUnits) AS u(sku, available, reserved, sold)
        WHERE s.sku = u.sku AND s.sku = ANY(@Skus);
        INSERT INTO reservations (order_id, sku, qty, status)
        SELECT * FROM unnest(@LineOrderIds, @LineSkus, @LineQtys, @LineStatuses)
        ON CONFLICT (order_id, sku) DO UPDATE SET status = excluded.status, updated_at = now();
        """;

    public static Task SaveAsync(NpgsqlTransaction tx, BookChanges changes, CancellationToken ct)
    {
        if (changes.IsEmpty) return Task.CompletedTask;
        var (holds, lines, stock) = (changes.Holds, changes.Lines, changes.Stock);
        return tx.Connection!.ExecuteAsync(new CommandDefinition(SaveSql, new
        {
            OrderIds = holds.Select(h => h.OrderId).ToArray(),
            Statuses = holds.Select(h => h.Status).ToArray(),
            Reasons = holds.Select(h => h.Reason).ToArray(),
            Reserved = holds.Select(h => h.ReservedTrace is not null).ToArray(),
            TraceParents = holds.Select(h => h.ReservedTrace?.TraceParent).ToArray(),
            TraceStates = holds.Select(h => h.ReservedTrace?.TraceState).ToArray(),
            Unused = changes.Unused.ToArray(),
            Skus = stock.Select(s => s.Sku).ToArray(),
            Available = stock.Select(s => s.Available).ToArray(),
            ReservedUnits = stock.Select(s => s.Reserved).ToArray(),
            SoldUnits = stock.Select(s => s.Sold).ToArray(),
            LineOrderIds = lines.Select(l => l.OrderId).ToArray(),
            LineSkus = lines.Select(l => l.Sku).ToArray(),
            LineQtys = lines.Select(l => l.Qty).ToArray(),
            LineStatuses = lines.Select(l => l.Status).ToArray(),
        }, tx, cancellationToken: ct));
    }
}
