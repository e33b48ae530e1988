namespace OrderStream.MockVendor;

public sealed record StockItem(string VendorSku, long Quantity);

public sealed record StockRequest(long? Quantity);

/// <summary>The vendor's stock: what it can still supply, per vendor SKU.</summary>
public sealed class MockStock(IReadOnlyDictionary<string, long> initial)
{
    public const long MaxQuantity = 1_000_000_000;
    private readonly SortedDictionary<string, long> _items = new(initial.ToDictionary(i => i.Key, i => Math.Clamp(i.Value, 0, MaxQuantity)), StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public IReadOnlyList<StockItem> Items()
    {
        lock (_lock) return [.. _items.Select(i => new StockItem(i.Key, i.Value))];
    }

    public StockItem Set(string vendorSku, long quantity)
    {
        lock (_lock) _items[vendorSku] = quantity;
        return new StockItem(vendorSku, quantity);
    }

    /// <summary>Every quantity moves by up to 5 either way (never below 0), as a vendor selling elsewhere and restocking would.</summary>
    public void Fluctuate()
    {
        lock (_lock)
            foreach (var sku in _items.Keys.ToList())
                _items[sku] = Math.Clamp(_items[sku] + Random.Shared.Next(-5, 6), 0, MaxQuantity);
    }
}
