using Dapper;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.Inventory.Domain;

namespace OrderStream.Inventory.Data;

/// <summary>
/// Loads a transaction's <see cref="StockBook"/> in one round trip and writes its changes back in
/// another. Locks are taken in one global order, order rows (by id) before stock rows (by SKU), as
/// the deadline scanner and the stock adjustments do too, so transactions never wait on each other in a cycle.
/// </summary>
public static class StockBookStore
{
    // 1. Every order row locked, in id order. An order inventory has not seen has no row: it is NEW in
    //    the book, and a decision about it inserts its row when the book is saved.
    // 2. The stock rows of the SKUs asked for and of every line those orders hold, locked in SKU order.
    // 3. The orders' lines, stable now that their orders are locked.
    // 4. The catalogue prices of the SKUs asked for, not locked: a reservation takes the price committed when it
    //    reads it, and a price edited a moment later applies to the orders reserved after it.
    // The "= ANY(...)" lookups keep the prepared (generic) plans on the primary keys.
    private const string LoadSql = """
        SELECT order_id AS OrderId, status FROM inventory_orders WHERE order_id = ANY(@OrderIds) ORDER BY order_id FOR UPDATE;
        SELECT sku, available, reserved, sold FROM stock
        WHERE sku = ANY(@Skus) OR sku IN (SELECT sku FROM reservations WHERE order_id = ANY(@OrderIds))
        ORDER BY sku FOR UPDATE;
        SELECT order_id AS OrderId, sku, qty, status FROM reservations WHERE order_id = ANY(@OrderIds);
        SELECT sku, unit_price AS UnitPrice, currency FROM products WHERE sku = ANY(@Skus);
        """;

    /// <summary>Locks the orders and the stock they hold or ask for, and loads them; an order inventory has not seen is NEW.</summary>
    public static async Task<StockBook> LoadAsync(NpgsqlTransaction tx, IEnumerable<Guid> orderIds, IEnumerable<string> skus, CancellationToken ct)
    {
        var args = new { OrderIds = orderIds.Distinct().Order().ToArray(), Skus = skus.Distinct(StringComparer.Ordinal).ToArray() };
        await using var results = await tx.Connection!.QueryMultipleAsync(new CommandDefinition(LoadSql, args, tx, cancellationToken: ct));
        var stored = (await results.ReadAsync<(Guid OrderId, string Status)>()).ToDictionary(h => h.OrderId, h => h.Status);
        var stock = await results.ReadAsync<StockLevel>();
        var lines = await results.ReadAsync<StockBook.Line>();
        var prices = await results.ReadAsync<ProductPrice>();
        var holds = args.OrderIds.ToDictionary(id => id, id => stored.GetValueOrDefault(id, HoldStatus.New));
        return new StockBook(holds, lines, stock, prices);
    }

    // The orders inventory decided about for the first time are inserted whole, in id order; the others
    // are updated. Two instances that both took an order for unseen (an order.created and its cancel, read
    // side by side) both insert it: the second insert waits for the first transaction and then fails on
    // the primary key, so that transaction rolls back and its events are applied again onto the row the
    // first one left. The stock rows get the book's figures (they have been locked since the load);
    // CHECK (... >= 0) guards them once more. A line is new (insert) or moved to another status (update).
    private const string SaveSql = """
        INSERT INTO inventory_orders (order_id, status, reason, reserved_at, traceparent, tracestate)
        SELECT order_id, status, reason, CASE WHEN reserved THEN now() END, traceparent, tracestate
        FROM unnest(@OrderIds, @IsNew, @Statuses, @Reasons, @Reserved, @TraceParents, @TraceStates)
             AS u(order_id, is_new, status, reason, reserved, traceparent, tracestate)
        WHERE u.is_new ORDER BY order_id;
        UPDATE inventory_orders o SET
            status = u.status, reason = u.reason,
            reserved_at = CASE WHEN u.reserved THEN now() ELSE o.reserved_at END,
            traceparent = CASE WHEN u.reserved THEN u.traceparent ELSE o.traceparent END,
            tracestate = CASE WHEN u.reserved THEN u.tracestate ELSE o.tracestate END,
            updated_at = now()
        FROM unnest(@OrderIds, @IsNew, @Statuses, @Reasons, @Reserved, @TraceParents, @TraceStates)
             AS u(order_id, is_new, status, reason, reserved, traceparent, tracestate)
        WHERE NOT u.is_new AND o.order_id = u.order_id AND o.order_id = ANY(@OrderIds);
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
            IsNew = holds.Select(h => h.IsNew).ToArray(),
            Statuses = holds.Select(h => h.Status).ToArray(),
            Reasons = holds.Select(h => h.Reason).ToArray(),
            Reserved = holds.Select(h => h.ReservedTrace is not null).ToArray(),
            TraceParents = holds.Select(h => h.ReservedTrace?.TraceParent).ToArray(),
            TraceStates = holds.Select(h => h.ReservedTrace?.TraceState).ToArray(),
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
