using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OrderStream.Contracts;

namespace OrderStream.Load;

/// <summary>
/// A server that answers like the gateway and does nothing else (POST → 202, GET → 200 CONFIRMED), in
/// this process. Driving it shows the load tool's own ceiling: figures measured against OrderStream are
/// only meaningful well below it.
/// </summary>
public static class TrivialServer
{
    public static async Task<WebApplication> StartAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapPost("/orders", async (HttpRequest request) =>
        {
            await request.Body.CopyToAsync(Stream.Null);
            var id = Guid.CreateVersion7();
            return Results.Accepted($"/orders/{id}", new { orderId = id, status = OrderStatus.Pending });
        });
        app.MapGet("/orders/{id}", (string id) => Results.Ok(new { orderId = id, status = OrderStatus.Confirmed, reason = (string?)null }));
        await app.StartAsync();
        return app;
    }
}
