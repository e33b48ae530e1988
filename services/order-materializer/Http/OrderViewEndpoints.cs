using Npgsql;
using OrderStream.OrderMaterializer.Data;

namespace OrderStream.OrderMaterializer.Http;

public static class OrderViewEndpoints
{
    public static void MapOrderViewEndpoints(this WebApplication app)
    {
        app.MapGet("/orders/{id:guid}", async (Guid id, NpgsqlDataSource db, CancellationToken ct) =>
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await OrderViewStore.GetAsync(conn, null, id, ct) is { } view
                ? Results.Ok(view)
                : Results.Problem(statusCode: 404, title: "Order not found");
        });
    }
}
