using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Fulfilment.Domain;
using OrderStream.Messaging;

namespace OrderStream.Fulfilment.Handlers;

/// <summary>
/// inventory.sold (the goods await dispatch) and order.ship-requested (a seller asked), in either order → one
/// shipment.dispatched once both are in; inventory.returned (a cancel before any ship request) → nothing will ship.
/// </summary>
public sealed class FulfilOrder(ILogger<FulfilOrder> logger) :
    IEventHandler<InventorySoldV1, ShipmentBook>,
    IEventHandler<OrderShipRequestedV1, ShipmentBook>,
    IEventHandler<InventoryReturnedV1, ShipmentBook>
{
    public Task HandleAsync(InventorySoldV1 sold, ShipmentBook book, EventContext context, CancellationToken ct) =>
        Publish(book, sold.OrderId, book.Sold(sold.OrderId, sold.Items, DateTimeOffset.UtcNow), context);

    public Task HandleAsync(OrderShipRequestedV1 requested, ShipmentBook book, EventContext context, CancellationToken ct)
    {
        var outcome = book.Requested(requested.OrderId, requested.RequestedBy, requested.RequestedAt, DateTimeOffset.UtcNow);
        // The gateway accepts no ship request after a cancel request, so this means a cancel overtook it somewhere: say so.
        if (outcome == ShipmentOutcome.Unchanged && book.Find(requested.OrderId)?.Status == ShipmentStatus.Cancelled)
            logger.LogWarning("Ship request for order {OrderId} found its sale returned: nothing ships", requested.OrderId);
        return Publish(book, requested.OrderId, outcome, context);
    }

    public Task HandleAsync(InventoryReturnedV1 returned, ShipmentBook book, EventContext context, CancellationToken ct)
    {
        // Goods that left cannot be put back by a return of the sale; the gateway refuses a cancel after a ship request,
        // so this is a broken rule somewhere, for an operator (and the checker) to see.
        if (book.Find(returned.OrderId)?.Status == ShipmentStatus.Dispatched)
            logger.LogError("Order {OrderId} was returned to stock after its shipment was dispatched", returned.OrderId);
        book.Returned(returned.OrderId);
        return Task.CompletedTask;
    }

    private static Task Publish(ShipmentBook book, Guid orderId, ShipmentOutcome outcome, EventContext context)
    {
        if (outcome == ShipmentOutcome.Dispatched && book.Find(orderId) is { } s)
            context.Publish(new ShipmentDispatchedV1(orderId, s.ShipmentId!.Value, s.Items!, s.RequestedBy!, s.DispatchedAt!.Value));
        return Task.CompletedTask;
    }
}
