using System.Diagnostics.Metrics;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using OrderStream.ApiGateway.Data;
using OrderStream.ApiGateway.Validation;
using OrderStream.Contracts;
using OrderStream.Hosting.Caching;
using OrderStream.Hosting.Identity;
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
        // Who may call what (docs/security.md): a customer places, reads, lists and cancels their own orders;
        // a seller and an admin read and list anyone's; the stuck orders are an operator's view. Another user's order
        // answers 404, exactly as a missing one, so order ids cannot be probed across users.
        app.MapPost("/orders", PlaceAsync).RequireAuthorization(Roles.Customer)
            .AddEndpointFilter(ReadOnlyMode.Filter).RequireRateLimiting(RateLimiting.OrdersPolicy);
        // A literal segment outranks {id}, so "stuck" and "unshipped" are never read as order ids.
        app.MapGet("/orders/stuck", (HttpRequest request, MaterializerClient materializer, CancellationToken ct) =>
            materializer.ForwardAsync("/orders/stuck" + request.QueryString, ct)).RequireAuthorization(Roles.Admin);
        // Confirmed orders not shipped in time (the materializer's Fulfilment__ShipWithin unless olderThan says): an operator's view too.
        app.MapGet("/orders/unshipped", (HttpRequest request, MaterializerClient materializer, CancellationToken ct) =>
            materializer.ForwardAsync("/orders/unshipped" + request.QueryString, ct)).RequireAuthorization(Roles.Admin);
        app.MapGet("/orders/{id}", GetAsync).RequireAuthorization(Roles.OrderReader);
        app.MapPost("/orders/{id}/cancel", CancelAsync).RequireAuthorization(Roles.Customer).AddEndpointFilter(ReadOnlyMode.Filter);
        // A seller ships any CONFIRMED order (ShipEndpoints); ship and cancel of one order serialize on its row lock.
        app.MapPost("/orders/{id}/ship", ShipEndpoints.ShipAsync).RequireAuthorization(Roles.Seller).AddEndpointFilter(ReadOnlyMode.Filter);
        app.MapGet("/orders", ListAsync).RequireAuthorization(Roles.OrderReader);
    }

    /// <summary>
    /// The list is the materializer's view (filters, limit and cursor are checked there). A customer's list is
    /// their own: no <c>userId</c> means theirs, another user's is a 403 (a list of nobody's orders would
    /// hide the mistake); an admin lists anyone's or everyone's.
    /// </summary>
    private static Task<IResult> ListAsync(HttpRequest request, ClaimsPrincipal user, MaterializerClient materializer, CancellationToken ct)
    {
        var query = request.QueryString;
        if (!user.SeesEveryOrder())
        {
            if (user.UserId() is not { } me) return Task.FromResult(NoSubject());
            if (!request.Query.TryGetValue("userId", out var asked)) query = query.Add("userId", me);
            else if (asked.Count != 1 || asked[0] != me)
                return Task.FromResult(Results.Problem(statusCode: 403, title: "A customer lists only their own orders",
                    detail: "Leave userId out, or name the user of the token."));
        }
        return materializer.ForwardAsync("/orders" + query, ct);
    }

    private static IResult NoSubject() =>
        Results.Problem(statusCode: 403, title: "The token names no user", detail: "A customer's token must carry sub.");

    private static IResult OrderNotFound() => Results.Problem(statusCode: 404, title: "Order not found");

    /// <summary>The <c>userId</c> of a cached view's JSON, read without building the whole view (polls are the hot path).</summary>
    private static string? OwnerOf(byte[] json)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isUser = reader.ValueTextEquals("userId"u8);
            reader.Read();
            if (isUser) return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            reader.Skip();
        }
        return null;
    }

    private static async Task<IResult> PlaceAsync(HttpRequest request, ClaimsPrincipal user, OrderWriter writer, OrderViewCache cache, ILoggerFactory logs, CancellationToken ct)
    {
        if (user.UserId() is not { } me) return NoSubject();
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

        var (json, malformed) = Parse(body);
        if (json is null) return malformed!;

        using (json)
        {
            // The order's user is the token's subject: a body without userId takes it, one naming another user is refused.
            var (order, errors) = OrderRequest.Validate(json.RootElement, defaultUserId: me);
            if (order is null) return Results.ValidationProblem(errors, title: "The order is invalid");
            if (order.UserId != me)
                return Results.Problem(statusCode: 403, title: "An order is placed by its own user",
                    detail: "The body's userId names another user than the token's subject; leave it out or send your own.");

            var (outcome, orderId) = await writer.AcceptAsync(order, key.Length > 0 ? key : null, ct);
            System.Diagnostics.Activity.Current?.SetTag("order.id", orderId.ToString());
            if (outcome == AcceptOutcome.Created)
            {
                // Polls of the new order are answered from Redis from the start, not by asking the
                // materializer (which has not seen it yet) and then this service's database each time.
                // The answer does not wait for the write: the order is already safe in the database, and
                // a poll that comes first is answered from there (AddAsync logs its own failures).
                _ = cache.AddAsync(OrderStore.PendingView(orderId, order.UserId, order.Items, order.Amount, order.Currency, DateTimeOffset.UtcNow));
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
    /// they never change, so the cache can never serve them stale. A cached view is answered even while
    /// the materializer is down or hung; without one, that is a 503 within the call's timeout (<see cref="ServiceCalls"/>).
    /// <para>
    /// A pending order's answer waits (up to <see cref="GatewayOptions.PollWait"/>, or what the request's
    /// <c>Prefer: wait=N</c> asks) for the order to settle, then answers with the settled view: the
    /// client hears of it at once, and a client polling hard costs one request per wait, not one per
    /// poll interval. Under a backlog that is what keeps polls from taking the CPU the saga needs to
    /// work the backlog off.
    /// </para>
    /// </summary>
    private static async Task<IResult> GetAsync(string id, HttpRequest request, HttpResponse response, ClaimsPrincipal user, OrderViewCache cache, SettledOrders settlements,
        IOptions<GatewayOptions> options, MaterializerClient materializer, NpgsqlDataSource db, ILoggerFactory logs, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var orderId))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["must be a UUID"] });

        var wait = options.Value.PollWait;
        if (PreferredWaitSeconds(request) is { } seconds)
        {
            wait = TimeSpan.FromSeconds(seconds);
            response.Headers["Preference-Applied"] = $"wait={seconds}";
        }
        using var watch = wait > TimeSpan.Zero ? settlements.Start(orderId) : default(SettledOrders.Watch?);
        if (await cache.GetJsonAsync(orderId) is { } cached)
        {
            if (!user.MaySee(OwnerOf(cached.Json))) return OrderNotFound();
            if (!cached.IsSettled && watch is { } w && await w.WaitAsync(wait, ct))
                cached = await cache.GetJsonAsync(orderId) ?? cached;
            if (!cached.IsSettled) response.Headers.RetryAfter = RetryAfterSeconds;
            return new JsonBytesResult(cached.Json, cached.IsSettled ? StatusCodes.Status200OK : StatusCodes.Status202Accepted);
        }

        OrderView? view;
        try { view = await materializer.GetAsync(orderId, ct); }
        catch (Exception ex) when (ServiceCalls.IsUnavailable(ex))
        {
            // The gateway's own record says whether the order exists, not how far its saga got: an order it
            // accepted may have settled long ago (its cache entry expired), so "pending" would be a guess.
            if (await OrderStore.GetOwnerAsync(db, orderId, ct) is not { } owner || !user.MaySee(owner.UserId)) return OrderNotFound();
            logs.CreateLogger(typeof(OrderEndpoints)).LogWarning("Order view unavailable for {OrderId}: {Error}", orderId, ex.Message);
            return ServiceCalls.Unavailable(response, Materializer, ex);
        }
        view ??= await OrderStore.GetPendingViewAsync(db, orderId, ct);
        if (view is null || !user.MaySee(view.UserId)) return OrderNotFound();
        if (view.IsSettled)
        {
            await cache.SetAsync(view);
            return Results.Ok(view);
        }
        response.Headers.RetryAfter = RetryAfterSeconds;
        return Results.Json(view, statusCode: StatusCodes.Status202Accepted);
    }

    public const int MaxPreferredWaitSeconds = 30;

    /// <summary>
    /// The request's <c>Prefer: wait=N</c> (RFC 7240), in whole seconds up to <see cref="MaxPreferredWaitSeconds"/>;
    /// null when the request states none (or none that parses).
    /// </summary>
    private static int? PreferredWaitSeconds(HttpRequest request)
    {
        foreach (var preference in request.Headers["Prefer"].SelectMany(header => (header ?? "").Split(',', StringSplitOptions.TrimEntries)))
        {
            // "wait=5" or "wait=5; parameter": the parameters of a preference do not matter here.
            var nameValue = preference.Split(';', 2)[0].Split('=', 2, StringSplitOptions.TrimEntries);
            if (nameValue is not [var name, var value] || !name.Equals("wait", StringComparison.OrdinalIgnoreCase)
                || !int.TryParse(value.Trim('"'), out var seconds) || seconds < 0) continue;
            return Math.Min(seconds, MaxPreferredWaitSeconds);
        }
        return null;
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

    private const string Materializer = "order-materializer";

    // For a cancel, which goes ahead without the view: inventory holds the truth and ignores a cancel of a failed order.
    private static async Task<OrderView?> ReadViewAsync(MaterializerClient materializer, ILogger logger, Guid orderId, CancellationToken ct)
    {
        try { return await materializer.GetAsync(orderId, ct); }
        catch (Exception ex) when (ServiceCalls.IsUnavailable(ex))
        {
            logger.LogWarning("Order view unavailable for {OrderId}: {Error}", orderId, ex.Message);
            return null;
        }
    }

    public const int MaxCancelBodyBytes = 4 * 1024;

    /// <summary>
    /// Asks the saga to cancel an order: allowed while it is not settled, and after it is CONFIRMED (a
    /// refund). The answer is 202: inventory decides what is undone (release, return to stock or, if the
    /// order already failed meanwhile, nothing) and the order shows the outcome. A repeated request gets
    /// the first one's answer and changes nothing; an order already FAILED or CANCELLED is a 409.
    /// </summary>
    private static async Task<IResult> CancelAsync(string id, HttpRequest request, ClaimsPrincipal user, NpgsqlDataSource db, OutboxSignal signal, MaterializerClient materializer, ILoggerFactory logs, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var orderId))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["must be a UUID"] });

        var body = await ReadLimitedAsync(request.Body, MaxCancelBodyBytes, ct);
        if (body is null)
            return Results.Problem(statusCode: 413, title: $"Body larger than {MaxCancelBodyBytes} bytes");
        JsonElement? json = null;
        if (body.Length > 0)
        {
            if (!request.HasJsonContentType())
                return Results.Problem(statusCode: 415, title: "Content-Type must be application/json");
            var (document, malformed) = Parse(body);
            if (document is null) return malformed!;
            using (document) json = document.RootElement.Clone();
        }
        var (cancel, errors) = CancelRequest.Validate(json);
        if (cancel is null) return Results.ValidationProblem(errors, title: "The cancel request is invalid");

        System.Diagnostics.Activity.Current?.SetTag("order.id", orderId.ToString());
        var owner = await OrderStore.GetOwnerAsync(db, orderId, ct);
        // Only its own user cancels an order. Another user's order answers like an unknown one, so order ids
        // cannot be probed across users (a body naming another user than the owner, too).
        if (owner is null || owner.UserId != user.UserId() || (cancel.UserId is not null && cancel.UserId != owner.UserId))
            return OrderNotFound();
        if (owner.Cancellation is { } earlier) return CancelAccepted(orderId, earlier);

        var logger = logs.CreateLogger(typeof(OrderEndpoints));
        // The materializer is asked, not the cache: this decides a 409. If it cannot be asked, the request
        // goes ahead, and inventory (which holds the truth) ignores it if the order already failed.
        var view = await ReadViewAsync(materializer, logger, orderId, ct);
        if (view is not null && OrderStatus.IsFinal(view.Status))
        {
            // A concurrent request may have cancelled it since we looked: its answer is this one's too.
            if ((await OrderStore.GetOwnerAsync(db, orderId, ct))?.Cancellation is { } meanwhile) return CancelAccepted(orderId, meanwhile);
            return Results.Problem(statusCode: 409, title: $"The order is already {view.Status}",
                detail: $"Order {orderId} is {view.Status} ({view.Reason}): there is nothing left to cancel.");
        }

        var outcome = await OrderStore.RequestCancelAsync(db, signal, orderId, cancel.Reason, ct);
        if (outcome.ShipRequested is { } shipment)
            return Results.Problem(statusCode: 409, title: "The order is being shipped",
                detail: $"Order {orderId}: a seller asked to ship it at {shipment.RequestedAt:O}; a shipped order is not cancelled (a return would be its own flow).");
        logger.LogInformation("Cancel requested for order {OrderId} (was {Status})", orderId, view?.Status ?? "unknown");
        return CancelAccepted(orderId, outcome.Cancellation!);
    }

    /// <summary>The answer to a cancel request, the same for its repeats.</summary>
    public sealed record CancelAcceptedBody(Guid OrderId, string Reason, DateTimeOffset CancelRequestedAt);

    private static IResult CancelAccepted(Guid orderId, OrderStore.Cancellation c) =>
        Results.Accepted($"/orders/{orderId}", new CancelAcceptedBody(orderId, c.Reason ?? FailureReasons.Cancelled, c.RequestedAt));

    /// <summary>
    /// A body as JSON, or the 400 that says why not. The parser checks structure, not the bytes inside
    /// strings, so a body that is not UTF-8 (RFC 8259 requires it) is refused here, before any field is read.
    /// </summary>
    private static (JsonDocument? Document, IResult? Problem) Parse(byte[] body)
    {
        if (!JsonText.IsUtf8(body))
            return (null, Results.Problem(statusCode: 400, title: "Malformed JSON", detail: "The body is not valid UTF-8."));
        try { return (JsonDocument.Parse(body), null); }
        catch (JsonException ex) { return (null, Results.Problem(statusCode: 400, title: "Malformed JSON", detail: ex.Message)); }
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
