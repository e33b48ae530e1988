using OrderStream.Contracts;
using OrderStream.Dashboard.Gateway;

namespace OrderStream.Dashboard.Components.Shared;

/// <summary>One line of the order form.</summary>
public sealed class DraftLine
{
    public string Sku { get; set; } = "SKU-001";
    public int Qty { get; set; } = 1;
    public decimal Price { get; set; } = 9.99m;
}

/// <summary>
/// What the order form holds, and the request it makes of it. Checked here first (the same limits the
/// gateway applies), so a slip shows at once next to the field; the gateway still has the last word.
/// </summary>
public sealed class OrderDraft
{
    public const int MaxUserIdLength = 64;
    public const int MaxQty = 10_000;
    public const int MaxLines = 100;
    public const string Currency = "EUR";

    /// <summary>
    /// The signed-in customer's id (the token's <c>sub</c>): the gateway places an order for the token's user
    /// only, so the form has no user to choose.
    /// </summary>
    public string UserId { get; set; } = "";

    public List<DraftLine> Lines { get; } = [new()];

    public (PlaceOrderRequest? Request, IReadOnlyList<string> Errors) Build()
    {
        var errors = new List<string>();
        var user = UserId?.Trim() ?? "";
        if (user.Length is 0 or > MaxUserIdLength) errors.Add($"User: 1-{MaxUserIdLength} characters (sign in as a customer)");
        if (Lines.Count is 0 or > MaxLines) errors.Add($"Lines: 1-{MaxLines}");
        for (var i = 0; i < Lines.Count; i++)
        {
            var line = Lines[i];
            if (string.IsNullOrWhiteSpace(line.Sku) || line.Sku.Trim().Length > 64) errors.Add($"Line {i + 1}: a SKU of 1-64 characters");
            if (line.Qty is < 1 or > MaxQty) errors.Add($"Line {i + 1}: quantity from 1 to {MaxQty}");
            if (line.Price <= 0 || decimal.Round(line.Price, 2) != line.Price) errors.Add($"Line {i + 1}: a price above 0 with at most 2 decimals");
        }
        if (errors.Count > 0) return (null, errors);
        var lines = Lines.Select(l => new OrderLine(l.Sku.Trim(), l.Qty, l.Price)).ToList();
        return (new PlaceOrderRequest(user, Currency, lines), errors);
    }
}
