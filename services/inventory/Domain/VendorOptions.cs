using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace OrderStream.Inventory.Domain;

/// <summary>
/// The vendors whose stock inventory syncs, bound from <c>Vendors</c>: <c>Vendors__Interval</c> and, per vendor,
/// <c>Vendors__List__{i}__Name</c>, <c>__BaseUrl</c> and <c>__Skus__{vendorSku}={ourSku}</c>. No vendor: nothing is synced.
/// How each call is bounded (timeouts, retry, circuit breaker) is <c>Vendors__Resilience__*</c> (Http/VendorClients.cs).
/// </summary>
public sealed class VendorOptions
{
    public const string Section = "Vendors";

    /// <summary>How often each vendor is asked for its stock (each on its own schedule).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(30);

    public List<VendorEndpoint> List { get; set; } = [];
}

/// <summary>One vendor: its name (admin, metrics, logs), where its stock API is, and which of its SKUs feed which of ours.</summary>
public sealed class VendorEndpoint
{
    public string Name { get; set; } = "";

    /// <summary>The stock API's base address; the sync reads <c>GET {BaseUrl}/stock</c>.</summary>
    public string BaseUrl { get; set; } = "";

    /// <summary>The vendor's SKU → our SKU. Only mapped SKUs are synced; our SKU must be fed by this vendor alone.</summary>
    public Dictionary<string, string> Skus { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Refuses, at start, a vendor list that would make the sync ambiguous or its names unusable as tags.</summary>
public sealed class VendorOptionsValidator : IValidateOptions<VendorOptions>
{
    public const int MaxSkuLength = 64;

    public ValidateOptionsResult Validate(string? name, VendorOptions options) =>
        Problems(options) is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;

    /// <summary>Every problem of the list, each naming the setting to fix.</summary>
    public static List<string> Problems(VendorOptions options)
    {
        var problems = new List<string>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        // Which vendor feeds each of our SKUs: two vendors on one SKU would overwrite each other at every sync.
        var fedBy = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < options.List.Count; i++)
        {
            var vendor = options.List[i];
            var at = $"Vendors__List__{i}";
            if (vendor.Name is not { Length: > 0 and <= 64 } || !vendor.Name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
                problems.Add($"{at}__Name must be 1-64 characters of a-z, 0-9 and '-' (it names the vendor in metrics and logs)");
            else if (!names.Add(vendor.Name))
                problems.Add($"{at}__Name '{vendor.Name}' names two vendors");
            if (!Uri.TryCreate(vendor.BaseUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                problems.Add($"{at}__BaseUrl must be an absolute http(s) URL, was '{vendor.BaseUrl}'");
            if (vendor.Skus.Count == 0)
                problems.Add($"{at}__Skus maps none of the vendor's SKUs to ours (Vendors__List__{i}__Skus__<vendorSku>=<ourSku>)");
            foreach (var (vendorSku, sku) in vendor.Skus)
            {
                if (vendorSku.Length > MaxSkuLength) problems.Add($"{at}__Skus: the vendor SKU '{vendorSku}' is longer than {MaxSkuLength} characters");
                if (sku is not { Length: > 0 and <= MaxSkuLength } || string.IsNullOrWhiteSpace(sku))
                    problems.Add($"{at}__Skus__{vendorSku} must be one of our SKUs (1-{MaxSkuLength} characters)");
                else if (!fedBy.TryAdd(sku, vendor.Name))
                    problems.Add($"{at}__Skus__{vendorSku}: {sku} is already fed by {fedBy[sku]}; a SKU takes its stock from one vendor");
            }
        }
        return problems;
    }
}
