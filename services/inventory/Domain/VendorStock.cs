namespace OrderStream.Inventory.Domain;

/// <summary>An item of a vendor's <c>GET /stock</c> answer.</summary>
public sealed record VendorItem(string? VendorSku, long? Quantity);

/// <summary>A vendor's answer that cannot be right as a whole; none of it is applied.</summary>
public sealed class InvalidVendorAnswerException(string message) : Exception(message);

/// <summary>
/// The rule of a vendor-fed SKU (docs/architecture.md, "Stock from vendors"). A vendor reports Q, what it can still
/// supply to us. Goods we sold have reached the vendor out of band and are already out of Q; our open reservations
/// have not. So the SKU's available becomes max(0, Q − reserved): it never goes negative, and nothing reserved or sold
/// is ever taken back. When Q is below what is reserved, available is 0, the reservations stand (they are honoured)
/// and the difference is the vendor's shortfall, shown on /admin/inventory/vendors and as a metric.
/// </summary>
public static class VendorStock
{
    /// <summary>The most a vendor may report for one SKU (the same bound as a seller's stock change).</summary>
    public const long MaxQuantity = 1_000_000_000;

    /// <summary>What the sync makes of one SKU: its available from now on, the change to write (0: nothing), and the reserved units Q no longer covers.</summary>
    public sealed record Decision(long Available, long Delta, long Shortfall);

    public static Decision Decide(long vendorQuantity, long available, long reserved)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(vendorQuantity);
        ArgumentOutOfRangeException.ThrowIfNegative(available);
        ArgumentOutOfRangeException.ThrowIfNegative(reserved);
        var target = Math.Max(0, vendorQuantity - reserved);
        return new Decision(target, target - available, Math.Max(0, reserved - vendorQuantity));
    }

    /// <summary>A mapped SKU the vendor reported: ours, the vendor's, and its quantity.</summary>
    public sealed record Reported(string Sku, string VendorSku, long Quantity);

    /// <summary>
    /// The vendor's answer against the mapping: the mapped SKUs it reported (in our SKU order) and the mapped vendor
    /// SKUs it left out, which keep their last known stock. Items it reports that are not mapped are not ours. An
    /// item without a SKU, a quantity outside 0..<see cref="MaxQuantity"/> or a SKU listed twice refuses the whole
    /// answer: a vendor that sends nonsense is failing, and its last known stock stays.
    /// </summary>
    public static (IReadOnlyList<Reported> Found, IReadOnlyList<string> Missing) Match(IReadOnlyList<VendorItem?>? answer, IReadOnlyDictionary<string, string> skus)
    {
        if (answer is null) throw new InvalidVendorAnswerException("the answer is not a list");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var found = new List<Reported>();
        foreach (var item in answer)
        {
            if (item?.VendorSku is not { Length: > 0 } vendorSku) throw new InvalidVendorAnswerException("an item has no vendorSku");
            if (item.Quantity is not { } quantity || quantity is < 0 or > MaxQuantity)
                throw new InvalidVendorAnswerException($"{vendorSku}: the quantity must be 0-{MaxQuantity}, was {item.Quantity?.ToString() ?? "missing"}");
            if (!seen.Add(vendorSku)) throw new InvalidVendorAnswerException($"{vendorSku} is listed twice");
            if (skus.TryGetValue(vendorSku, out var sku)) found.Add(new Reported(sku, vendorSku, quantity));
        }
        var missing = skus.Keys.Where(k => !seen.Contains(k)).Order(StringComparer.Ordinal).ToList();
        return (found.OrderBy(f => f.Sku, StringComparer.Ordinal).ToList(), missing);
    }
}
