using System.Security.Claims;
using Npgsql;
using OrderStream.ApiGateway.Data;
using OrderStream.Contracts;
using OrderStream.Hosting.Identity;
using OrderStream.Messaging;

namespace OrderStream.ApiGateway.Http;

/// <summary>
/// <c>POST /orders/{id}/ship</c>: a seller asks to ship a CONFIRMED order. The gateway decides ship against cancel,
/// because it is where both requests arrive: under the order's row lock, a cancel already requested is a 409, a ship
/// already requested is the first answer again, and otherwise the request and its order.ship-requested event commit
/// together. Fulfilment dispatches once it has the sale too; the order view then goes SHIPPED.
/// </summary>
public static class ShipEndpoints
{
    /// <summary>The answer to a ship request, the same for its repeats.</summary>
    public sealed record ShipAcceptedBody(Guid OrderId, string RequestedBy, DateTimeOffset ShipRequestedAt);

    public static async Task<IResult> ShipAsync(string id, HttpResponse response, ClaimsPrincipal user, NpgsqlDataSource db, OutboxSignal signal,
        MaterializerClient materializer, ILoggerFactory logs, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var orderId))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["id"] = ["must be a UUID"] });
        if (user.UserId() is not { } seller)
            return Results.Problem(statusCode: 403, title: "The token names no user", detail: "A seller's token must carry sub.");
        System.Diagnostics.Activity.Current?.SetTag("order.id", orderId.ToString());

        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await ShipmentRequests.LockAsync(tx, orderId, ct) is not { } order)
            return Results.Problem(statusCode: 404, title: "Order not found");
        if (order.CancelRequested)
            return Results.Problem(statusCode: 409, title: "The order was cancelled",
                detail: $"Order {orderId}: a cancel was requested before any ship request; it is not shipped.");
        if (order.Shipment is { } earlier) return Accepted(orderId, earlier);

        // Asked while holding the lock, so no cancel can slip in between this answer and the commit. The view, not the
        // cache: it decides a 409, and a confirmed order's cached entry could be a moment behind a cancel's outcome.
        OrderView? view;
        try { view = await materializer.GetAsync(orderId, ct); }
        catch (Exception ex) when (ServiceCalls.IsUnavailable(ex))
        {
            logs.CreateLogger(typeof(ShipEndpoints)).LogWarning("Order view unavailable for ship of {OrderId}: {Error}", orderId, ex.Message);
            return ServiceCalls.Unavailable(response, "order-materializer", ex);
        }
        var status = view?.Status ?? OrderStatus.Pending;
        if (status != OrderStatus.Confirmed)
            return Results.Problem(statusCode: 409, title: $"The order is {status}, not {OrderStatus.Confirmed}",
                detail: $"Order {orderId}: only a confirmed order is shipped.");

        var request = await ShipmentRequests.RequestAsync(tx, orderId, seller, ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        logs.CreateLogger(typeof(ShipEndpoints)).LogInformation("Ship requested for order {OrderId} by {Seller}", orderId, seller);
        return Accepted(orderId, request);
    }

    private static IResult Accepted(Guid orderId, ShipmentRequests.ShipRequest request) =>
        Results.Accepted($"/orders/{orderId}", new ShipAcceptedBody(orderId, request.RequestedBy, request.RequestedAt));
}
