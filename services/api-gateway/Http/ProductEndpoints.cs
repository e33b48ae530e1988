using OrderStream.Hosting.Identity;

namespace OrderStream.ApiGateway.Http;

/// <summary>
/// The product catalogue, owned by inventory: reads are public (anonymous included), a price change needs the role
/// that sets prices. The gateway checks the credential first; inventory checks it again.
/// </summary>
public static class ProductEndpoints
{
    public static void MapProductEndpoints(this WebApplication app)
    {
        app.MapGet("/products", (InventoryClient inventory, CancellationToken ct) => inventory.ForwardAsync("/products", ct))
            .AllowAnonymous();
        app.MapGet("/products/{sku}", (string sku, InventoryClient inventory, CancellationToken ct) =>
                inventory.ForwardAsync($"/products/{Uri.EscapeDataString(sku)}", ct))
            .AllowAnonymous();
        app.MapPut("/products/{sku}", (string sku, HttpContext context, InventoryClient inventory, CancellationToken ct) =>
                inventory.ForwardWriteAsync($"/products/{Uri.EscapeDataString(sku)}", context, ct))
            .RequireAuthorization(Roles.Seller);
    }
}
