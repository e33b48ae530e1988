using System.Globalization;
using OrderStream.Contracts;

namespace OrderStream.Stack;

/// <summary>
/// What the mock vendors of a stack on this machine (and of compose, checked by DeployTests) serve, and how
/// inventory maps it: vendor-a's items A1001..A1003 feed our VND-A-001..VND-A-003, vendor-b's B1001..B1003 feed
/// VND-B-001..VND-B-003. Vendor-fed SKUs are SKUs of their own: never the demo SKU-... ones the tests and the
/// benchmark stock by the thousand, which a sync would set to the vendor's figure.
/// </summary>
public static class DemoVendors
{
    public const int ItemsPerVendor = 3;
    public const long InitialQuantity = 100;

    /// <summary>An item: the vendor's SKU, ours, what the vendor starts with, and our catalogue price (EUR).</summary>
    public sealed record Item(string VendorSku, string Sku, long Quantity, decimal UnitPrice, string Name);

    public static IReadOnlyList<Item> Of(ServiceSpec vendor)
    {
        if (vendor.Kind != ServiceKind.Mock) throw new ArgumentException($"{vendor.Name} is not a mock vendor", nameof(vendor));
        var letter = char.ToUpperInvariant(vendor.Name[^1]);
        return [.. Enumerable.Range(1, ItemsPerVendor).Select(i => new Item(
            VendorSku: $"{letter}{1000 + i}",
            Sku: string.Create(CultureInfo.InvariantCulture, $"VND-{letter}-{i:000}"),
            Quantity: InitialQuantity,
            UnitPrice: 19.99m + 10 * (i - 1),
            Name: $"{vendor.Name} item {i}"))];
    }

    /// <summary>The mock's own settings: its name and its initial stock.</summary>
    public static IEnumerable<KeyValuePair<string, string>> MockSettings(ServiceSpec vendor) =>
        [new("Vendor__Name", vendor.Name), .. Of(vendor).Select(i => KeyValuePair.Create($"Vendor__Stock__{i.VendorSku}", i.Quantity.ToString(CultureInfo.InvariantCulture)))];

    /// <summary>
    /// Inventory's settings for the vendors it syncs (each with its base URL): <c>Vendors__List__{i}__Name</c>,
    /// <c>__BaseUrl</c> and <c>__Skus__{vendorSku}={ourSku}</c>, in the order given.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, string>> InventorySettings(IEnumerable<(ServiceSpec Vendor, string BaseUrl)> vendors) =>
        vendors.SelectMany((v, i) => new[]
            {
                KeyValuePair.Create($"Vendors__List__{i}__Name", v.Vendor.Name),
                KeyValuePair.Create($"Vendors__List__{i}__BaseUrl", v.BaseUrl),
            }
            .Concat(Of(v.Vendor).Select(item => KeyValuePair.Create($"Vendors__List__{i}__Skus__{item.VendorSku}", item.Sku))));
}
