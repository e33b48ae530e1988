using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>
/// order.cancel-requested → undo what inventory holds for the order: release the reservation
/// (inventory.released, CANCELLED), return a sale to stock (inventory.returned), or, if order.created has
/// not arrived yet, close the order so it is never reserved (inventory.released with no items). An order
/// already failed or released stays as it is: the cancel came too late and changes nothing.
/// </summary>
public sealed class CancelOrder(ILogger<CancelOrder> logger) : IEventHandler<OrderCancelRequestedV1, StockBook>
{
    public Task HandleAsync(OrderCancelRequestedV1 cancel, StockBook book, EventContext context, CancellationToken ct)
    {
        var hold = book.Status(cancel.OrderId);
        switch (OrderHold.OnCancelRequested(hold))
        {
            case StockAction.CloseUnreserved or StockAction.Release:
                var released = book.Release(cancel.OrderId, FailureReasons.Cancelled);
                context.Publish(new InventoryReleasedV1(cancel.OrderId, released, FailureReasons.Cancelled));
                break;
            case StockAction.Return:
                var returned = book.Return(cancel.OrderId, FailureReasons.Cancelled);
                context.Publish(new InventoryReturnedV1(cancel.OrderId, returned, FailureReasons.Cancelled));
                break;
            default:
                logger.LogInformation("Cancel of order {OrderId} ignored: it is already {Status}", cancel.OrderId, hold);
                break;
        }
        return Task.CompletedTask;
    }
}
