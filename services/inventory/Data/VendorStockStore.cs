using Dapper;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Data;

/// <summary>
/// Applies a vendor's reported quantities to its SKUs through the stock ledger: each change is a
/// <c>stock_receipts</c> row (VENDOR_SYNC) and an <c>inventory.adjusted.v1</c> in the outbox, in the transaction
/// that changes the stock row, under that row's lock. One short transaction per SKU that changes, outside any
/// HTTP call: the vendor's answer is in hand before the first lock is taken.
/// </summary>
public static class VendorStockStore
{
    private const string ReadSql = "SELECT sku, available, reserved FROM stock WHERE sku = ANY(@Skus)";

    // FOR UPDATE on the row the saga's reservations lock too (StockBookStore): no reservation can land between
    // reading reserved and writing available, so available never goes below what the rule allows.
    private const string LockSql = "SELECT available, reserved FROM stock WHERE sku = @Sku FOR UPDATE";

    private sealed record Level(string Sku, long Available, long Reserved);

    private sealed record Locked(long Available, long Reserved);

    /// <summary>Brings every reported SKU to the rule's figure (<see cref="VendorStock.Decide"/>); returns each SKU as it stands.</summary>
    public static async Task<IReadOnlyList<VendorSkuStatus>> SyncAsync(NpgsqlDataSource db, OutboxSignal signal, string vendor,
        IReadOnlyList<VendorStock.Reported> reported, CancellationToken ct)
    {
        Dictionary<string, Level> levels;
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var rows = await conn.QueryAsync<Level>(new CommandDefinition(ReadSql, new { Skus = reported.Select(r => r.Sku).ToArray() }, cancellationToken: ct));
            levels = rows.ToDictionary(l => l.Sku, StringComparer.Ordinal);
        }
        var result = new List<VendorSkuStatus>(reported.Count);
        foreach (var item in reported)
        {
            // Most syncs change nothing: only a SKU whose figure moves (or that is new) takes its row lock and writes.
            if (levels.TryGetValue(item.Sku, out var level) && VendorStock.Decide(item.Quantity, level.Available, level.Reserved) is { Delta: 0 } same)
                result.Add(new VendorSkuStatus(item.Sku, item.VendorSku, item.Quantity, same.Available, level.Reserved, same.Shortfall));
            else
                result.Add(await ApplyAsync(db, signal, vendor, item, ct));
        }
        return result;
    }

    private static async Task<VendorSkuStatus> ApplyAsync(NpgsqlDataSource db, OutboxSignal signal, string vendor, VendorStock.Reported item, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(StockStore.EnsureSql, new { item.Sku }, tx, cancellationToken: ct));
        var row = await conn.QuerySingleAsync<Locked>(new CommandDefinition(LockSql, new { item.Sku }, tx, cancellationToken: ct));
        // Decided again under the lock: a reservation may have moved the figures since the unlocked read.
        var decision = VendorStock.Decide(item.Quantity, row.Available, row.Reserved);
        if (decision.Delta != 0)
        {
            var reason = $"vendor {vendor} reports {item.Quantity} of {item.VendorSku}";
            await StockStore.WriteLedgerAsync(conn, tx, item.Sku, decision.Delta, AdjustmentKinds.VendorSync, reason, decision.Available, ct);
        }
        await tx.CommitAsync(ct);
        if (decision.Delta != 0) signal.Notify();
        return new VendorSkuStatus(item.Sku, item.VendorSku, item.Quantity, decision.Available, row.Reserved, decision.Shortfall);
    }
}
