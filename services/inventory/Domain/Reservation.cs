using OrderStream.Contracts;

namespace OrderStream.Inventory.Domain;

public sealed record StockLevel(string Sku, long Available, long Reserved, long Sold);

/// <summary>A SKU's price in the catalogue (<c>products</c>), as a reservation reads it.</summary>
public sealed record ProductPrice(string Sku, decimal UnitPrice, string Currency);

/// <summary>
/// The outcome of trying to reserve an order: every line (merged per SKU) with its catalogue price and the total, or the
/// first reason it cannot be (then <see cref="Priced"/> is empty and <see cref="Amount"/> 0).
/// </summary>
public sealed record ReservationDecision(IReadOnlyList<SkuQuantity> Lines, string? FailureReason, string? FailedSku)
{
    public bool Ok => FailureReason is null;

    public IReadOnlyList<PricedLine> Priced { get; init; } = [];

    public decimal Amount { get; init; }
}

/// <summary>All-or-nothing reservation of an order's lines against the locked stock rows, priced from the catalogue.</summary>
public static class Reservation
{
    /// <summary>Merges lines of the same SKU and sorts by SKU, the order stock rows are locked in (no deadlocks between orders).</summary>
    public static IReadOnlyList<SkuQuantity> Merge(IEnumerable<OrderLine> items) =>
        items.GroupBy(i => i.Sku, StringComparer.Ordinal)
            .Select(g => new SkuQuantity(g.Key, checked(g.Sum(i => i.Qty))))
            .OrderBy(l => l.Sku, StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// Reserves every line or none. A SKU is for sale when it has stock and a catalogue price in the order's
    /// <paramref name="currency"/>; one without (no stock row, no product, or priced in another currency) is
    /// <see cref="FailureReasons.UnknownSku"/>, as an unknown SKU always was. The price the order carries is not looked at.
    /// </summary>
    public static ReservationDecision Decide(IReadOnlyDictionary<string, StockLevel> stock, IReadOnlyDictionary<string, ProductPrice> prices,
        IEnumerable<OrderLine> items, string currency)
    {
        var lines = Merge(items);
        foreach (var line in lines)
        {
            if (!stock.TryGetValue(line.Sku, out var level) || !prices.TryGetValue(line.Sku, out var price)
                || !string.Equals(price.Currency, currency, StringComparison.Ordinal))
                return new ReservationDecision(lines, FailureReasons.UnknownSku, line.Sku);
            if (level.Available < line.Qty)
                return new ReservationDecision(lines, FailureReasons.OutOfStock, line.Sku);
        }
        var priced = lines.Select(l => new PricedLine(l.Sku, l.Qty, prices[l.Sku].UnitPrice)).ToList();
        return new ReservationDecision(lines, null, null) { Priced = priced, Amount = priced.Sum(l => l.Qty * l.UnitPrice) };
    }
}
