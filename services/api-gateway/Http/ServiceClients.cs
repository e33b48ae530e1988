using System.Net;
using System.Net.Http.Json;
using OrderStream.Contracts;

namespace OrderStream.ApiGateway.Http;

/// <summary>Reads the order view from the materializer (the gateway never touches another service's database).</summary>
public sealed class MaterializerClient(HttpClient http)
{
    public async Task<OrderView?> GetAsync(Guid orderId, CancellationToken ct)
    {
        using var response = await http.GetAsync($"/orders/{orderId}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<OrderView>(EventJson.Options, ct);
    }

    /// <summary>Passes a read (the order list, the stuck orders) through, status and body as the materializer gave them.</summary>
    public async Task<IResult> ForwardAsync(string pathAndQuery, CancellationToken ct)
    {
        using var response = await http.GetAsync(pathAndQuery, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        return Results.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json", statusCode: (int)response.StatusCode);
    }
}

/// <summary>Passes inventory reads through to the inventory service.</summary>
public sealed class InventoryClient(HttpClient http)
{
    public async Task<IResult> ForwardAsync(string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        return Results.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json", statusCode: (int)response.StatusCode);
    }
}
