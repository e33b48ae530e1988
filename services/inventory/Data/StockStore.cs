using Dapper;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Data;

/// <summary>
/// Stock as operators see and change it: the levels with what was received, and adjustments. The saga's
/// reservations go through <see cref="StockBookStore"/>.
/// </summary>
public static class StockStore
{
    internal const string EnsureSql = "INSERT INTO stock (sku, available, reserved, sold) VALUES (@Sku, 0, 0, 0) ON CONFLICT (sku) DO NOTHING";

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
            await WriteLedgerAsync(conn, tx, change.Sku, delta, kind, change.Reason, before + delta, ct);
        }
        await tx.CommitAsync(ct);
        if (delta != 0) signal.Notify();
        return (AdjustOutcome.Applied, before + delta);
    }

    /// <summary>
    /// One entry of the stock ledger, with the SKU's row already locked by the caller: the stock row moves by
    /// <paramref name="delta"/>, a <c>stock_receipts</c> row records it (so the books still balance) and an
    /// <c>inventory.adjusted.v1</c> goes to the outbox, all in <paramref name="tx"/>.
    /// </summary>
    internal static async Task WriteLedgerAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sku, long delta, string kind, string? reason,
        long availableAfter, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition(AdjustSql, new { Sku = sku, Quantity = delta, Kind = kind, Reason = reason }, tx, cancellationToken: ct));
        var received = await conn.QuerySingleAsync<long>(new CommandDefinition(ReceivedSql, new { Sku = sku }, tx, cancellationToken: ct));
        var adjusted = new InventoryAdjustedV1(Guid.CreateVersion7(), sku, delta, kind, reason, availableAfter, received, DateTimeOffset.UtcNow);
        await Outbox.WriteAsync(tx, [OutgoingEvent.ForStock(adjusted)], causationId: null, ct);
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
