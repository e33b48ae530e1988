namespace OrderStream.ApiGateway.Http;

public static class InventoryEndpoints
{
    public static void MapInventoryEndpoints(this WebApplication app)
    {
        app.MapGet("/inventory", (InventoryClient inventory, CancellationToken ct) => inventory.ForwardAsync("/inventory", ct));
        app.MapGet("/inventory/{sku}", (string sku, InventoryClient inventory, CancellationToken ct) =>
            inventory.ForwardAsync($"/inventory/{Uri.EscapeDataString(sku)}", ct));
    }
}
