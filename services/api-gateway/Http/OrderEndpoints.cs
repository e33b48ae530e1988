using System.Diagnostics.Metrics;
using System.Text.Json;
using Npgsql;
using OrderStream.ApiGateway.Data;
using OrderStream.ApiGateway.Validation;
using OrderStream.Contracts;
using OrderStream.Hosting.Caching;
using OrderStream.Messaging;

namespace OrderStream.ApiGateway.Http;

public static class OrderEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;
    public const int MaxIdempotencyKeyLength = 128;
    private const string RetryAfterSeconds = "1";

    private static readonly Meter Meter = new("OrderStream.ApiGateway");
    private static readonly Counter<long> Accepted = Meter.CreateCounter<long>("orderstream.orders.accepted", "{order}", "Orders accepted (202), idempotent replays not counted");

    public static void MapOrderEndpoints(this WebApplication app)
    {
        app.MapPost("/orders", PlaceAsync).AddEndpointFilter(ReadOnlyMode.Filter).RequireRateLimiting(RateLimiting.OrdersPolicy);
        app.MapGet("/orders/{id}", GetAsync);
        // The list is the materializer's view (filters, limit and cursor are checked there).
        app.MapGet("/orders", (HttpRequest request, MaterializerClient materializer, CancellationToken ct) =>
            materializer.ForwardAsync("/orders" + request.QueryString, ct));
    }

    private static async Task<IResult> PlaceAsync(HttpRequest request, NpgsqlDataSource db, OutboxSignal signal, OrderViewCache cache, ILoggerFactory logs, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
            return Results.Problem(statusCode: 415, title: "Content-Type must be application/json");
        if (request.ContentLength > MaxBodyBytes)
            return Results.Problem(statusCode: 413, title: $"Body larger than {MaxBodyBytes} bytes");

        var key = request.Headers["Idempotency-Key"].ToString();
        if (key.Length > MaxIdempotencyKeyLength)
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["Idempotency-Key"] = [$"must be at most {MaxIdempotencyKeyLength} characters"] });

        var body = await ReadLimitedAsync(request.Body, MaxBodyBytes, ct);
        if (body is null)
            return Results.Problem(statusCode: 413, title: $"Body larger than {MaxBodyBytes} bytes");

        JsonDocument json;
        try { json = JsonDocument.Parse(body); }
        catch (JsonException ex) { return Results.Problem(statusCode: 400, title: "Malformed JSON", detail: ex.Message); }

        using (json)
        {
            var (order, errors) = OrderRequest.Validate(json.RootElement);
            if (order is null) return Results.ValidationProblem(errors, title: "The order is invalid");

            var (outcome, orderId) = await OrderStore.AcceptAsync(db, signal, order, key.Length > 0 ? key : null, ct);
            System.Diagnostics.Activity.Current?.SetTag("order.id", orderId.ToString());
            if (outcome == AcceptOutcome.Created)
            {
                // Polls of the new order are answered from Redis from the start, not by asking the
                // materializer (which has not seen it yet) and then this service's database each time.
                await cache.AddAsync(OrderStore.PendingView(orderId, order.UserId, order.Items, order.Amount, order.Currency, DateTimeOffset.UtcNow));
                Accepted.Add(1);
                logs.CreateLogger(typeof(OrderEndpoints)).LogInformation("Order {OrderId} accepted for {UserId}", orderId, order.UserId);
            }
            return outcome == AcceptOutcome.KeyReusedWithDifferentBody
                ? Results.Problem(statusCode: 422, title: "Idempotency-Key already used with a different request", detail: $"The key belongs to order {orderId}.")
                : Results.Accepted($"/orders/{orderId}", new { orderId, status = OrderStatus.Pending });
        }
    }

    /// <summary>
    /// Read-through: Redis, then the materializer's view, then (for an order accepted a moment ago that
    /// the materializer has not seen yet) the gateway's own record. Only settled views are cached here:
    /// they never change, so the cache can never serve them stale.
    /// </summary>
    private static async Task<IResult> GetAsync(string id, HttpResponse response, OrderViewCache cache, MaterializerClient materializer, NpgsqlDataSource db, ILoggerFactory logs, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var orderId))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["must be a UUID"] });

        if (await cache.GetJsonAsync(orderId) is { } cached)
        {
            if (!cached.IsSettled) response.Headers.RetryAfter = RetryAfterSeconds;
            return new JsonBytesResult(cached.Json, cached.IsSettled ? StatusCodes.Status200OK : StatusCodes.Status202Accepted);
        }

        var view = await ReadViewAsync(materializer, logs.CreateLogger(typeof(OrderEndpoints)), orderId, ct) ?? await OrderStore.GetPendingViewAsync(db, orderId, ct);
        if (view is null) return Results.Problem(statusCode: 404, title: "Order not found");
        if (view.IsSettled)
        {
            await cache.SetAsync(view);
            return Results.Ok(view);
        }
        response.Headers.RetryAfter = RetryAfterSeconds;
        return Results.Json(view, statusCode: StatusCodes.Status202Accepted);
    }

    /// <summary>JSON that is already serialized (a cached view), sent as it is.</summary>
    private sealed class JsonBytesResult(byte[] json, int statusCode) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = statusCode;
            context.Response.ContentType = "application/json; charset=utf-8";
            context.Response.ContentLength = json.Length;
            return context.Response.Body.WriteAsync(json).AsTask();
        }
    }

    // The gateway accepted every order, so its own record says whether one exists; while the
    // materializer cannot be asked, an accepted order is answered as not settled yet (202) rather than 503.
    private static async Task<OrderView?> ReadViewAsync(MaterializerClient materializer, ILogger logger, Guid orderId, CancellationToken ct)
    {
        try { return await materializer.GetAsync(orderId, ct); }
        catch (HttpRequestException ex)
        {
            logger.LogWarning("Order view unavailable for {OrderId}: {Error}", orderId, ex.Message);
            return null;
        }
    }

    private static async Task<byte[]?> ReadLimitedAsync(Stream body, int limit, CancellationToken ct)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit) return null;
            buffer.Write(chunk, 0, read);
        }
        return buffer.ToArray();
    }
}
