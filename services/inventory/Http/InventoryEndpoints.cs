using Npgsql;
using OrderStream.Inventory.Data;

namespace OrderStream.Inventory.Http;

public static class InventoryEndpoints
{
    public sealed record RestockRequest(long Quantity);

    public static void MapInventoryEndpoints(this WebApplication app)
    {
        app.MapGet("/inventory", async (NpgsqlDataSource db, CancellationToken ct) =>
            Results.Ok(await StockStore.ListAsync(db, null, ct)));

        app.MapGet("/inventory/{sku}", async (string sku, NpgsqlDataSource db, CancellationToken ct) =>
            (await StockStore.ListAsync(db, sku, ct)) is [var one] ? Results.Ok(one) : Results.Problem(statusCode: 404, title: $"Unknown SKU '{sku}'"));

        // Internal: puts new stock in (seeding and restocks). Not exposed through the gateway.
        app.MapPost("/inventory/{sku}/restock", async (string sku, RestockRequest request, NpgsqlDataSource db, CancellationToken ct) =>
        {
            if (sku.Length is 0 or > 64)
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["sku"] = ["must be 1-64 characters"] });
            if (request.Quantity is <= 0 or > 1_000_000_000)
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["quantity"] = ["must be 1-1000000000"] });
            await StockStore.ReceiveAsync(db, sku, request.Quantity, ct);
            return Results.Ok((await StockStore.ListAsync(db, sku, ct))[0]);
        });
    }
}
