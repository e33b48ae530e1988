using OrderStream.Hosting.Identity;

namespace OrderStream.ApiGateway.Http;

public static class InventoryEndpoints
{
    public static void MapInventoryEndpoints(this WebApplication app)
    {
        // Stock levels are no secret from a signed-in user (a customer sees what can be ordered), but not
        // public: any valid token reads them. Changing stock is the seller's (docs/security.md).
        app.MapGet("/inventory", (InventoryClient inventory, CancellationToken ct) => inventory.ForwardAsync("/inventory", ct)).RequireAuthorization();
        app.MapGet("/inventory/{sku}", (string sku, InventoryClient inventory, CancellationToken ct) =>
            inventory.ForwardAsync($"/inventory/{Uri.EscapeDataString(sku)}", ct)).RequireAuthorization();
        // POST adds (negative: takes out) quantity, PUT sets the level; inventory checks the body and the role again.
        app.MapPost("/inventory/{sku}", (string sku, HttpRequest request, InventoryClient inventory, CancellationToken ct) =>
            inventory.SendAsync(HttpMethod.Post, $"/inventory/{Uri.EscapeDataString(sku)}", request, ct)).RequireAuthorization(Roles.Seller);
        app.MapPut("/inventory/{sku}", (string sku, HttpRequest request, InventoryClient inventory, CancellationToken ct) =>
            inventory.SendAsync(HttpMethod.Put, $"/inventory/{Uri.EscapeDataString(sku)}", request, ct)).RequireAuthorization(Roles.Seller);
    }
}
