using System.Globalization;
using Npgsql;
using OrderStream.OrderMaterializer.Data;

namespace OrderStream.OrderMaterializer.Http;

public static class OrderViewEndpoints
{
    public const int MaxStuckLimit = 1000;
    private static readonly TimeSpan DefaultOlderThan = TimeSpan.FromSeconds(60);

    public sealed record StuckOrders(double OlderThanSeconds, int Count, IReadOnlyList<OrderViewStore.StuckOrder> Orders);

    public static void MapOrderViewEndpoints(this WebApplication app)
    {
        // Operators: orders still PENDING after olderThan, before the saga deadline turns them into failures.
        app.MapGet("/orders/stuck", async (string? olderThan, string? limit, NpgsqlDataSource db, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            var age = DefaultOlderThan;
            if (olderThan is not null)
            {
                if (ParseAge(olderThan) is { } parsed) age = parsed;
                else errors["olderThan"] = ["must be whole seconds (e.g. 30) or a time span (e.g. 00:02:00), from 0 to 7 days"];
            }
            var max = 100;
            if (limit is not null && !(int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out max) && max is >= 1 and <= MaxStuckLimit))
                errors["limit"] = [$"must be 1-{MaxStuckLimit}"];
            if (errors.Count > 0) return Results.ValidationProblem(errors);

            var orders = await OrderViewStore.StuckAsync(db, age, max, ct);
            return Results.Ok(new StuckOrders(age.TotalSeconds, orders.Count, orders));
        });

        app.MapGet("/orders/{id:guid}", async (Guid id, NpgsqlDataSource db, CancellationToken ct) =>
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await OrderViewStore.GetAsync(conn, null, id, ct) is { } view
                ? Results.Ok(view)
                : Results.Problem(statusCode: 404, title: "Order not found");
        });
    }

    /// <summary>"30" (seconds) or "00:00:30"; null if neither, or negative, or over 7 days.</summary>
    public static TimeSpan? ParseAge(string text)
    {
        TimeSpan value;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= 7 * 86_400) value = TimeSpan.FromSeconds(seconds);
        else if (!TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out value)) return null;
        return value >= TimeSpan.Zero && value <= TimeSpan.FromDays(7) ? value : null;
    }
}
