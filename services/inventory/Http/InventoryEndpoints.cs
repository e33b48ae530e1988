using Npgsql;
using OrderStream.Hosting.Identity;
using OrderStream.Inventory.Data;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Http;

public static class InventoryEndpoints
{
    public const long MaxQuantity = 1_000_000_000;
    public const int MaxReasonLength = 200;

    public sealed record RestockRequest(long Quantity);

    /// <summary>POST: add <c>Quantity</c> (negative: take stock out). PUT: set available to <c>Level</c>.</summary>
    public sealed record StockChangeRequest(long? Quantity, long? Level, string? Reason);

    public static void MapInventoryEndpoints(this WebApplication app)
    {
        // Reading stock: any signed-in user. Changing it: the seller (docs/security.md); the gateway passes
        // POST and PUT /inventory/{sku} on with the seller's own token.
        app.MapGet("/inventory", async (NpgsqlDataSource db, CancellationToken ct) =>
            Results.Ok(await StockStore.ListAsync(db, null, ct))).RequireAuthorization();

        app.MapGet("/inventory/{sku}", async (string sku, NpgsqlDataSource db, CancellationToken ct) =>
            (await StockStore.ListAsync(db, sku, ct)) is [var one] ? Results.Ok(one) : Results.Problem(statusCode: 404, title: $"Unknown SKU '{sku}'"))
            .RequireAuthorization();

        // Adds stock (negative: takes it out), or sets the available level, with a reason.
        app.MapPost("/inventory/{sku}", (string sku, StockChangeRequest request, NpgsqlDataSource db, OutboxSignal signal, CancellationToken ct) =>
            ChangeAsync(db, signal, sku, request with { Level = null }, ct, quantityRequired: true)).RequireAuthorization(Roles.Seller);
        app.MapPut("/inventory/{sku}", (string sku, StockChangeRequest request, NpgsqlDataSource db, OutboxSignal signal, CancellationToken ct) =>
            ChangeAsync(db, signal, sku, request with { Quantity = null }, ct, levelRequired: true)).RequireAuthorization(Roles.Seller);

        // Puts new stock in (run.sh's seeding and the tests); the same change as POST /inventory/{sku}.
        app.MapPost("/inventory/{sku}/restock", (string sku, RestockRequest request, NpgsqlDataSource db, OutboxSignal signal, CancellationToken ct) =>
            request.Quantity <= 0
                ? Task.FromResult(Results.ValidationProblem(new Dictionary<string, string[]> { ["quantity"] = [$"must be 1-{MaxQuantity}"] }))
                : ChangeAsync(db, signal, sku, new StockChangeRequest(request.Quantity, null, "restock"), ct)).RequireAuthorization(Roles.Seller);
    }

    /// <summary><c>/admin/inventory</c>: every SKU's books, for operators (changing stock is the seller's: POST and PUT /inventory/{sku}).</summary>
    public static void MapInventoryAdmin(this RouteGroupBuilder admin)
    {
        admin.MapGet("", async (NpgsqlDataSource db, CancellationToken ct) => Results.Ok(await StockStore.ListAsync(db, null, ct)));
        // Each vendor's sync: state, last good sync, last error, failures in a row, SKUs and shortfall (docs/operations.md).
        admin.MapGet("/vendors", (VendorStatusBoard board) => Results.Ok(board.Snapshot()));
    }

    private static async Task<IResult> ChangeAsync(NpgsqlDataSource db, OutboxSignal signal, string sku, StockChangeRequest request, CancellationToken ct,
        bool quantityRequired = false, bool levelRequired = false)
    {
        var errors = new Dictionary<string, string[]>();
        if (sku.Length is 0 or > 64) errors["sku"] = ["must be 1-64 characters"];
        if (quantityRequired && request.Quantity is null || request.Quantity is 0 or < -MaxQuantity or > MaxQuantity)
            errors["quantity"] = [$"must be a non-zero integer from -{MaxQuantity} to {MaxQuantity}"];
        if (levelRequired && request.Level is null || request.Level is < 0 or > MaxQuantity)
            errors["level"] = [$"must be an integer from 0 to {MaxQuantity}"];
        if (request.Reason is { Length: > MaxReasonLength }) errors["reason"] = [$"must be at most {MaxReasonLength} characters"];
        if (errors.Count > 0) return Results.ValidationProblem(errors);

        var (outcome, available) = await StockStore.AdjustAsync(db, signal, new StockStore.StockChange(sku, request.Quantity, request.Level, request.Reason), ct);
        return outcome switch
        {
            StockStore.AdjustOutcome.UnknownSku => Results.Problem(statusCode: 404, title: $"Unknown SKU '{sku}'"),
            StockStore.AdjustOutcome.BelowZero => Results.Problem(statusCode: 409, title: "Not enough stock available",
                detail: $"SKU '{sku}' has {available} available; the change would take it below 0 (reserved and sold stock cannot be taken out)."),
            _ => Results.Ok((await StockStore.ListAsync(db, sku, ct))[0]),
        };
    }
}
