using OrderStream.Contracts;

namespace OrderStream.Inventory.Domain;

public sealed record StockLevel(string Sku, long Available, long Reserved, long Sold);

/// <summary>The outcome of trying to reserve an order: every line (merged per SKU), or the first reason it cannot be.</summary>
public sealed record ReservationDecision(IReadOnlyList<SkuQuantity> Lines, string? FailureReason, string? FailedSku)
{
    public bool Ok => FailureReason is null;
}

/// <summary>All-or-nothing reservation of an order's lines against the locked stock rows.</summary>
public static class Reservation
{
    /// <summary>Merges lines of the same SKU and sorts by SKU, the order stock rows are locked in (no deadlocks between orders).</summary>
    public static IReadOnlyList<SkuQuantity> Merge(IEnumerable<OrderLine> items) =>
        items.GroupBy(i => i.Sku, StringComparer.Ordinal)
            .Select(g => new SkuQuantity(g.Key, checked(g.Sum(i => i.Qty))))
            .OrderBy(l => l.Sku, StringComparer.Ordinal)
            .ToList();

    public static ReservationDecision Decide(IReadOnlyDictionary<string, StockLevel> stock, IEnumerable<OrderLine> items)
    {
        var lines = Merge(items);
        foreach (var line in lines)
        {
            if (!stock.TryGetValue(line.Sku, out var level))
                return new ReservationDecision(lines, FailureReasons.UnknownSku, line.Sku);
            if (level.Available < line.Qty)
                return new ReservationDecision(lines, FailureReasons.OutOfStock, line.Sku);
        }
        return new ReservationDecision(lines, null, null);
    }
}
