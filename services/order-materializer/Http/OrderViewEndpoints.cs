using System.Buffers.Text;
using System.Globalization;
using System.Security.Claims;
using System.Text;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.Hosting.Identity;
using OrderStream.OrderMaterializer.Data;

namespace OrderStream.OrderMaterializer.Http;

public static class OrderViewEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    public sealed record OrderPage(IReadOnlyList<OrderListStore.Summary> Items, string? NextCursor);

    public const int MaxStuckLimit = 1000;
    private static readonly TimeSpan DefaultOlderThan = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan DefaultStuckAfter = TimeSpan.FromSeconds(30);

    public sealed record PendingCounts(long Pending, long Stuck, double StuckAfterSeconds, long Unshipped, double ShipWithinSeconds);

    public sealed record UnshippedOrders(double OlderThanSeconds, int Count, IReadOnlyList<UnshippedStore.UnshippedOrder> Orders);

    public sealed record StuckOrders(double OlderThanSeconds, int Count, IReadOnlyList<OrderViewStore.StuckOrder> Orders);

    public static void MapOrderViewEndpoints(this WebApplication app)
    {
        // Operators: orders still PENDING after olderThan, before the saga deadline turns them into failures.
        app.MapGet("/orders/stuck", async (string? olderThan, string? limit, NpgsqlDataSource db, CancellationToken ct) =>
        {
            var (age, max, errors) = ParseAgeQuery(olderThan, limit, DefaultOlderThan);
            if (errors.Count > 0) return Results.ValidationProblem(errors);

            var orders = await OrderViewStore.StuckAsync(db, age, max, ct);
            return Results.Ok(new StuckOrders(age.TotalSeconds, orders.Count, orders));
        }).RequireAuthorization(Roles.Admin);

        // Operators: confirmed orders not shipped after olderThan (Fulfilment__ShipWithin by default), oldest first.
        app.MapGet("/orders/unshipped", async (string? olderThan, string? limit, IOptions<FulfilmentOptions> fulfilment, NpgsqlDataSource db, CancellationToken ct) =>
        {
            var (age, max, errors) = ParseAgeQuery(olderThan, limit, fulfilment.Value.ShipWithin);
            if (errors.Count > 0) return Results.ValidationProblem(errors);

            var orders = await UnshippedStore.ListAsync(db, age, max, ct);
            return Results.Ok(new UnshippedOrders(age.TotalSeconds, orders.Count, orders));
        }).RequireAuthorization(Roles.Admin);

        // Operators: how many orders are PENDING and how many of them for longer than stuckAfter seconds, and how many
        // confirmed ones were not shipped within Fulfilment__ShipWithin (the gateway's /admin/system shows them).
        app.MapGet("/orders/counts", async (string? stuckAfter, IOptions<FulfilmentOptions> fulfilment, NpgsqlDataSource db, CancellationToken ct) =>
        {
            if ((stuckAfter is null ? DefaultStuckAfter : ParseAge(stuckAfter)) is not { } age)
                return Results.ValidationProblem(new Dictionary<string, string[]> { ["stuckAfter"] = ["must be whole seconds (e.g. 30) or a time span (e.g. 00:02:00), from 0 to 7 days"] });
            var counts = await OrderViewStore.PendingCountsAsync(db, age, ct);
            var shipWithin = fulfilment.Value.ShipWithin;
            var unshipped = await UnshippedStore.CountAsync(db, shipWithin, ct);
            return Results.Ok(new PendingCounts(counts.Pending, counts.Stuck, age.TotalSeconds, unshipped, shipWithin.TotalSeconds));
        }).RequireAuthorization(Roles.Admin);

        // The gateway calls these with its caller's own token, and the same rules hold here as there: a
        // customer sees only their own orders (another's is a 404, as a missing one), an admin any.
        app.MapGet("/orders/{id:guid}", async (Guid id, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct) =>
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await OrderViewStore.GetAsync(conn, null, id, ct) is { } view && user.MaySee(view.UserId)
                ? Results.Ok(view)
                : Results.Problem(statusCode: 404, title: "Order not found");
        }).RequireAuthorization(Roles.OrderReader);

        app.MapGet("/orders", async (string? userId, string? status, string? limit, string? cursor, ClaimsPrincipal user, NpgsqlDataSource db, CancellationToken ct) =>
        {
            if (!user.SeesEveryOrder())
            {
                if (user.UserId() is not { } me || (userId is not null && userId != me))
                    return Results.Problem(statusCode: 403, title: "A customer lists only their own orders");
                userId = me;
            }
            var errors = new Dictionary<string, string[]>();
            var take = DefaultLimit;
            if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out take) || take is < 1 or > MaxLimit))
                errors["limit"] = [$"must be an integer from 1 to {MaxLimit}"];
            if (status is not null && !OrderStatus.All.Contains(status)) errors["status"] = [$"must be one of {string.Join(", ", OrderStatus.All)}"];
            if (userId is { Length: 0 or > 64 }) errors["userId"] = ["must be 1-64 characters"];
            OrderListStore.Cursor? after = null;
            if (cursor is not null && (after = DecodeCursor(cursor)) is null) errors["cursor"] = ["is not a cursor this service issued"];
            if (errors.Count > 0) return Results.ValidationProblem(errors);

            var (items, next) = await OrderListStore.ListAsync(db, userId, status, take, after, ct);
            return Results.Ok(new OrderPage(items, next is null ? null : EncodeCursor(next)));
        }).RequireAuthorization(Roles.OrderReader);
    }

    // Opaque to clients (base64url), so the sort key can change without breaking their code; microseconds
    // are PostgreSQL's precision, so the cursor names exactly the last row.
    public static string EncodeCursor(OrderListStore.Cursor cursor)
    {
        var micros = (cursor.CreatedAt.Ticks - DateTime.UnixEpoch.Ticks) / 10;
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{micros.ToString(CultureInfo.InvariantCulture)}:{cursor.OrderId:N}"));
    }

    public static OrderListStore.Cursor? DecodeCursor(string text)
    {
        try
        {
            if (text.Length > 100) return null;
            var parts = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(text)).Split(':');
            return parts.Length == 2 && long.TryParse(parts[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var micros)
                && micros >= 0 && micros <= (DateTime.MaxValue.Ticks - DateTime.UnixEpoch.Ticks) / 10
                && Guid.TryParseExact(parts[1], "N", out var id)
                ? new OrderListStore.Cursor(new DateTime(DateTime.UnixEpoch.Ticks + micros * 10, DateTimeKind.Utc), id)
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>"30" (seconds) or "00:00:30"; null if neither, or negative, or over 7 days.</summary>
    /// <summary>The operators' lists' query (<c>olderThan</c>, <c>limit</c>): the age and count asked for, or what is wrong with them.</summary>
    private static (TimeSpan Age, int Limit, Dictionary<string, string[]> Errors) ParseAgeQuery(string? olderThan, string? limit, TimeSpan defaultAge)
    {
        var errors = new Dictionary<string, string[]>();
        var age = defaultAge;
        if (olderThan is not null)
        {
            if (ParseAge(olderThan) is { } parsed) age = parsed;
            else errors["olderThan"] = ["must be whole seconds (e.g. 30) or a time span (e.g. 00:02:00), from 0 to 7 days"];
        }
        var max = 100;
        if (limit is not null && !(int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out max) && max is >= 1 and <= MaxStuckLimit))
            errors["limit"] = [$"must be 1-{MaxStuckLimit}"];
        return (age, max, errors);
    }

    public static TimeSpan? ParseAge(string text)
    {
        TimeSpan value;
        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) && seconds <= 7 * 86_400) value = TimeSpan.FromSeconds(seconds);
        else if (!TimeSpan.TryParseExact(text, "c", CultureInfo.InvariantCulture, out value)) return null;
        return value >= TimeSpan.Zero && value <= TimeSpan.FromDays(7) ? value : null;
    }
}

/// <summary><c>Fulfilment__ShipWithin</c>: how long a confirmed order may wait for its shipment before operators see it.</summary>
public sealed class FulfilmentOptions
{
    public const string Section = "Fulfilment";

    [Range(typeof(TimeSpan), "00:00:00", "7.00:00:00")]
    public TimeSpan ShipWithin { get; set; } = TimeSpan.FromHours(24);
}
