using Npgsql;
using OrderStream.Hosting.Identity;
using OrderStream.Inventory.Data;

namespace OrderStream.Inventory.Http;

/// <summary><c>/products</c>: the catalogue every reservation is priced from. Anyone may read it; changing a price is protected.</summary>
public static class ProductEndpoints
{
    public const int MaxSkuLength = 64;
    public const int MaxNameLength = 200;
    public const decimal MaxUnitPrice = 1_000_000m;

    /// <summary>PUT /products/{sku}: the whole entry (a price change is a new price for orders reserved from now on).</summary>
    public sealed record ProductRequest(string? Name, decimal? UnitPrice, string? Currency);

    public static void MapProductEndpoints(this WebApplication app)
    {
        app.MapGet("/products", async (NpgsqlDataSource db, CancellationToken ct) => Results.Ok(await ProductStore.ListAsync(db, null, ct)))
            .AllowAnonymous();
        // A SKU no PUT could have stored (a NUL would be refused by PostgreSQL: a 500) is answered without asking.
        app.MapGet("/products/{sku}", async (string sku, NpgsqlDataSource db, CancellationToken ct) =>
                IsSku(sku) && (await ProductStore.ListAsync(db, sku, ct)) is [var one] ? Results.Ok(one) : Results.Problem(statusCode: 404, title: $"Unknown SKU '{sku}'"))
            .AllowAnonymous();
        app.MapPut("/products/{sku}", PutAsync)
            .RequireAuthorization(Roles.Seller);
    }

    private static async Task<IResult> PutAsync(string sku, ProductRequest request, NpgsqlDataSource db, CancellationToken ct)
    {
        var (errors, currency) = Validate(sku, request);
        if (errors.Count > 0) return Results.ValidationProblem(errors, title: "The product is invalid");
        return Results.Ok(await ProductStore.UpsertAsync(db, sku, request.Name!.Trim(), request.UnitPrice!.Value + 0.00m, currency!, ct));
    }

    private static bool IsSku(string sku) => sku.Length is > 0 and <= MaxSkuLength && !string.IsNullOrWhiteSpace(sku) && IsStorable(sku);

    // PostgreSQL refuses NUL, and Npgsql a lone surrogate (it cannot be encoded as UTF-8): both would be a 500, so
    // they are refused as bad input, as are other control characters, which no name or SKU needs.
    private static bool IsStorable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsControl(text[i]) || char.IsLowSurrogate(text[i])) return false;
            if (char.IsHighSurrogate(text[i]) && (++i == text.Length || !char.IsLowSurrogate(text[i]))) return false;
        }
        return true;
    }

    /// <summary>Every problem of a PUT by field name; the currency comes back upper-cased (what is stored and compared with orders').</summary>
    public static (Dictionary<string, string[]> Errors, string? Currency) Validate(string sku, ProductRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        if (!IsSku(sku)) errors["sku"] = [$"must be 1-{MaxSkuLength} characters, no control characters"];
        if (request.Name is not { } name || string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength || !IsStorable(name))
            errors["name"] = [$"must be a string of 1-{MaxNameLength} characters, no control characters"];
        if (request.UnitPrice is not { } price || price <= 0 || price > MaxUnitPrice || decimal.Round(price, 2) != price)
            errors["unitPrice"] = [$"must be a number above 0 and at most {MaxUnitPrice} with at most 2 decimals"];
        var currency = request.Currency is { Length: 3 } c && c.All(char.IsAsciiLetter) ? c.ToUpperInvariant() : null;
        if (currency is null) errors["currency"] = ["must be a 3-letter ISO 4217 currency code, e.g. EUR"];
        return (errors, currency);
    }
}
