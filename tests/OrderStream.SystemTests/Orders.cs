using System.Net.Http.Json;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

internal static class Orders
{
    public static object Body(string userId, params (string Sku, int Qty, decimal Price)[] lines) =>
        new { userId, currency = "EUR", items = lines.Select(l => new { sku = l.Sku, qty = l.Qty, price = l.Price }) };

    public static async Task<Guid> PlaceAsync(this OrderStreamStack stack, object body)
    {
        var response = await stack.Http.PostAsJsonAsync("/orders", body);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, response.StatusCode);
        var accepted = await response.Content.ReadFromJsonAsync<Accepted>();
        return accepted!.OrderId;
    }

    public sealed record Accepted(Guid OrderId, string Status);

    public sealed record Stock(string Sku, long Available, long Reserved, long Sold, long Received);

    public static async Task<List<Stock>> InventoryAsync(this OrderStreamStack stack) =>
        (await stack.Http.GetFromJsonAsync<List<Stock>>("/inventory"))!;

}
