using Dapper;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Data;

/// <summary>
/// Stock and reservations. A change locks the order's <see cref="OrderHoldStore"/> row first, then the SKU rows in SKU
/// order, so concurrent orders never deadlock.
/// </summary>
public static class StockStore
{
    private const string LockSql = """
        SELECT sku, available, reserved, sold FROM stock
        WHERE sku = ANY(@Skus) ORDER BY sku FOR UPDATE
        """;

    public static async Task<Dictionary<string, StockLevel>> LockAsync(NpgsqlTransaction tx, IEnumerable<string> skus, CancellationToken ct)
    {
        var rows = await tx.Connection!.QueryAsync<StockLevel>(new CommandDefinition(LockSql, new { Skus = skus.ToArray() }, tx, cancellationToken: ct));
        return rows.ToDictionary(r => r.Sku, StringComparer.Ordinal);
    }

    // "available >= qty" keeps the invariant in the database too: a short row would update nothing and fail the count check.
    private const string ReserveSql = """
        UPDATE stock SET available = stock.available - l.qty, reserved = stock.reserved + l.qty
        FROM unnest(@Skus, @Qtys) AS l(sku, qty)
        WHERE stock.sku = l.sku AND stock.available >= l.qty
        """;

    private const string InsertReservationsSql = """
        INSERT INTO reservations (order_id, sku, qty, status)
        SELECT @OrderId, l.sku, l.qty, 'RESERVED' FROM unnest(@Skus, @Qtys) AS l(sku, qty)
        """;

    public static async Task ReserveAsync(NpgsqlTransaction tx, Guid orderId, IReadOnlyList<SkuQuantity> lines, CancellationToken ct)
    {
        var args = new { OrderId = orderId, Skus = lines.Select(l => l.Sku).ToArray(), Qtys = lines.Select(l => l.Qty).ToArray() };
        var updated = await tx.Connection!.ExecuteAsync(new CommandDefinition(ReserveSql, args, tx, cancellationToken: ct));
        if (updated != lines.Count) throw new InvalidOperationException($"Reserving order {orderId} updated {updated} of {lines.Count} stock rows");
        await tx.Connection!.ExecuteAsync(new CommandDefinition(InsertReservationsSql, args, tx, cancellationToken: ct));
    }

    private const string LinesSql = """
        SELECT sku, qty FROM reservations WHERE order_id = @OrderId AND status = @From ORDER BY sku
        """;

    private const string CloseLinesSql = """
        UPDATE reservations SET status = @To, updated_at = now() WHERE order_id = @OrderId AND status = @From
        """;

    private const string SellSql = """
        UPDATE stock SET reserved = stock.reserved - l.qty, sold = stock.sold + l.qty
        FROM unnest(@Skus, @Qtys) AS l(sku, qty) WHERE stock.sku = l.sku
        """;

    private const string ReleaseSql = """
        UPDATE stock SET reserved = stock.reserved - l.qty, available = stock.available + l.qty
        FROM unnest(@Skus, @Qtys) AS l(sku, qty) WHERE stock.sku = l.sku
        """;

    // A returned sale goes back to available, so available + reserved + sold = received still holds.
    private const string ReturnSql = """
        UPDATE stock SET sold = stock.sold - l.qty, available = stock.available + l.qty
        FROM unnest(@Skus, @Qtys) AS l(sku, qty) WHERE stock.sku = l.sku
        """;

    /// <summary>Turns an order's open reservation into a sale; returns the lines sold (none if there was no open reservation).</summary>
    public static Task<IReadOnlyList<SkuQuantity>> SellAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct) =>
        MoveAsync(tx, orderId, "RESERVED", "SOLD", SellSql, ct);

    /// <summary>Gives an order's open reservation back to stock; returns the lines released (none if there was no open reservation).</summary>
    public static Task<IReadOnlyList<SkuQuantity>> ReleaseAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct) =>
        MoveAsync(tx, orderId, "RESERVED", "RELEASED", ReleaseSql, ct);

    /// <summary>Puts an order's sold lines back into available stock; returns the lines returned (none if nothing was sold).</summary>
    public static Task<IReadOnlyList<SkuQuantity>> ReturnAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct) =>
        MoveAsync(tx, orderId, "SOLD", "RETURNED", ReturnSql, ct);

    private static async Task<IReadOnlyList<SkuQuantity>> MoveAsync(NpgsqlTransaction tx, Guid orderId, string from, string to, string stockSql, CancellationToken ct)
    {
        var conn = tx.Connection!;
        var lines = (await conn.QueryAsync<SkuQuantity>(new CommandDefinition(LinesSql, new { OrderId = orderId, From = from }, tx, cancellationToken: ct))).AsList();
        if (lines.Count == 0) return lines;
        await LockAsync(tx, lines.Select(l => l.Sku), ct);
        var moved = await conn.ExecuteAsync(new CommandDefinition(CloseLinesSql, new { OrderId = orderId, From = from, To = to }, tx, cancellationToken: ct));
        if (moved != lines.Count) throw new InvalidOperationException($"Order {orderId}: moved {moved} of {lines.Count} reservation lines from {from} to {to}");
        await conn.ExecuteAsync(new CommandDefinition(stockSql, new { Skus = lines.Select(l => l.Sku).ToArray(), Qtys = lines.Select(l => l.Qty).ToArray() }, tx, cancellationToken: ct));
        return lines;
    }

    private const string EnsureSql = "INSERT INTO stock (sku, available, reserved, sold) VALUES (@Sku, 0, 0, 0) ON CONFLICT (sku) DO NOTHING";

    private const string LockOneSql = "SELECT available FROM stock WHERE sku = @Sku FOR UPDATE";

    // Runs with the row locked and the new level checked; the CHECK (available >= 0) would refuse it anyway.
    private const string AdjustSql = """
        UPDATE stock SET available = available + @Quantity WHERE sku = @Sku;
        INSERT INTO stock_receipts (sku, quantity, kind, reason) VALUES (@Sku, @Quantity, @Kind, @Reason);
        """;

    private const string ReceivedSql = "SELECT COALESCE(SUM(quantity), 0)::bigint FROM stock_receipts WHERE sku = @Sku";

    public enum AdjustOutcome { Applied, UnknownSku, BelowZero }

    /// <summary>What an operator asks for: add <c>Quantity</c> (either sign), or set <c>available</c> to <c>Level</c>.</summary>
    public sealed record StockChange(string Sku, long? Quantity, long? Level, string? Reason);

    /// <summary>
    /// Applies a stock change in one transaction: the stock row, a <c>stock_receipts</c> row with the signed
    /// difference (so the books still balance) and an <c>inventory.adjusted.v1</c> event in the outbox. Adding
    /// stock or setting a level creates an unknown SKU; nothing may take <c>available</c> below 0.
    /// </summary>
    public static async Task<(AdjustOutcome Outcome, long Available)> AdjustAsync(NpgsqlDataSource db, OutboxSignal signal, StockChange change, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (change.Level is not null || change.Quantity > 0)
            await conn.ExecuteAsync(new CommandDefinition(EnsureSql, new { change.Sku }, tx, cancellationToken: ct));
        var available = await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(LockOneSql, new { change.Sku }, tx, cancellationToken: ct));
        if (available is not { } before) return (AdjustOutcome.UnknownSku, 0);

        var delta = change.Level is { } level ? level - before : change.Quantity!.Value;
        if (before + delta < 0) return (AdjustOutcome.BelowZero, before);
        if (delta != 0)
        {
            var kind = change.Level is null && delta > 0 ? AdjustmentKinds.Receipt : AdjustmentKinds.Adjustment;
            await conn.ExecuteAsync(new CommandDefinition(AdjustSql, new { change.Sku, Quantity = delta, Kind = kind, change.Reason }, tx, cancellationToken: ct));
            var received = await conn.QuerySingleAsync<long>(new CommandDefinition(ReceivedSql, new { change.Sku }, tx, cancellationToken: ct));
            var adjusted = new InventoryAdjustedV1(Guid.CreateVersion7(), change.Sku, delta, kind, change.Reason, before + delta, received, DateTimeOffset.UtcNow);
            await Outbox.WriteAsync(tx, [OutgoingEvent.ForStock(adjusted)], causationId: null, ct);
        }
        await tx.CommitAsync(ct);
        if (delta != 0) signal.Notify();
        return (AdjustOutcome.Applied, before + delta);
    }

    private const string ListSql = """
        SELECT s.sku, s.available, s.reserved, s.sold, COALESCE(r.received, 0)::bigint AS received
        FROM stock s LEFT JOIN (SELECT sku, SUM(quantity) AS received FROM stock_receipts GROUP BY sku) r USING (sku)
        WHERE @Sku::text IS NULL OR s.sku = @Sku ORDER BY s.sku
        """;

    public sealed record StockView(string Sku, long Available, long Reserved, long Sold, long Received);

    public static async Task<IReadOnlyList<StockView>> ListAsync(NpgsqlDataSource db, string? sku, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<StockView>(new CommandDefinition(ListSql, new { Sku = sku }, cancellationToken: ct))).AsList();
    }
}
