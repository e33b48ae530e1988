using OrderStream.Dashboard.Gateway;

namespace OrderStream.Dashboard.Components.Shared;

/// <summary>One line of the order form: what and how many. The price is the catalogue's, not the customer's.</summary>
public sealed class DraftLine
{
    public string Sku { get; set; } = "SKU-001";
    public int Qty { get; set; } = 1;
}

/// <summary>A line as the catalogue prices it now: its product, or null when the SKU is not in the catalogue.</summary>
public sealed record DraftLinePrice(string Sku, int Qty, Product? Product)
{
    public decimal? Total => Product is { } p ? Qty * p.UnitPrice : null;
}

/// <summary>
/// What the order form holds, and the request it makes of it. Checked here first (the same limits the
/// gateway applies), so a slip shows at once next to the field; the gateway still has the last word.
/// The request carries no prices: inventory prices every line from its catalogue when it reserves the
/// order. The form shows the catalogue's prices and an estimate from them, which is all it can know.
/// </summary>
public sealed class OrderDraft
{
    public const int MaxUserIdLength = 64;
    public const int MaxQty = 10_000;
    public const int MaxLines = 100;

    /// <summary>The order's currency when no line's SKU is in the catalogue.</summary>
    public const string DefaultCurrency = "EUR";

    /// <summary>
    /// The signed-in customer's id (the token's <c>sub</c>): the gateway places an order for the token's user
    /// only, so the form has no user to choose.
    /// </summary>
    public string UserId { get; set; } = "";

    public List<DraftLine> Lines { get; } = [new()];

    /// <summary>Each line with its catalogue entry (null: not in <paramref name="catalogue"/>).</summary>
    public IReadOnlyList<DraftLinePrice> Price(IReadOnlyDictionary<string, Product> catalogue) =>
        [.. Lines.Select(l => new DraftLinePrice(l.Sku?.Trim() ?? "", l.Qty, catalogue.GetValueOrDefault(l.Sku?.Trim() ?? "")))];

    /// <summary>
    /// The order's currency: the catalogue's for its lines (one order has one currency, and inventory sells a SKU
    /// only in the currency it is priced in), <see cref="DefaultCurrency"/> when none of them is in the catalogue.
    /// </summary>
    public IReadOnlyList<string> Currencies(IReadOnlyDictionary<string, Product> catalogue) =>
        [.. Price(catalogue).Where(l => l.Product is not null).Select(l => l.Product!.Currency).Distinct(StringComparer.Ordinal)];

    /// <summary>
    /// The sum of the lines at catalogue prices, when every line is in the catalogue in one currency; else null
    /// (the saga would fail such an order, or price it in a currency of its own).
    /// </summary>
    public (decimal Amount, string Currency)? Estimate(IReadOnlyDictionary<string, Product> catalogue)
    {
        var lines = Price(catalogue);
        if (lines.Count == 0 || lines.Any(l => l.Product is null || l.Qty is < 1 or > MaxQty)) return null;
        return Currencies(catalogue) is [var currency] ? (lines.Sum(l => l.Total!.Value), currency) : null;
    }

    /// <param name="catalogue">The catalogue as last read (empty when it could not be read): it decides the order's currency.</param>
    public (PlaceOrderRequest? Request, IReadOnlyList<string> Errors) Build(IReadOnlyDictionary<string, Product>? catalogue = null)
    {
        catalogue ??= new Dictionary<string, Product>();
        var errors = new List<string>();
        var user = UserId?.Trim() ?? "";
        if (user.Length is 0 or > MaxUserIdLength) errors.Add($"User: 1-{MaxUserIdLength} characters (sign in as a customer)");
        if (Lines.Count is 0 or > MaxLines) errors.Add($"Lines: 1-{MaxLines}");
        for (var i = 0; i < Lines.Count; i++)
        {
            var line = Lines[i];
            if (string.IsNullOrWhiteSpace(line.Sku) || line.Sku.Trim().Length > 64) errors.Add($"Line {i + 1}: a SKU of 1-64 characters");
            if (line.Qty is < 1 or > MaxQty) errors.Add($"Line {i + 1}: quantity from 1 to {MaxQty}");
        }
        var currencies = Currencies(catalogue);
        if (currencies.Count > 1) errors.Add($"The lines are priced in different currencies ({string.Join(", ", currencies)}): one order has one currency");
        if (errors.Count > 0) return (null, errors);
        var items = Lines.Select(l => new OrderItem(l.Sku.Trim(), l.Qty)).ToList();
        return (new PlaceOrderRequest(user, currencies is [var c] ? c : DefaultCurrency, items), errors);
    }
}
