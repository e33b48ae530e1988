using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>
/// order.cancel-requested → undo what inventory holds for the order: release the reservation
/// (inventory.released, CANCELLED), return a sale to stock (inventory.returned), or, if order.created has
/// not arrived yet, close the order so it is never reserved (inventory.released with no items). An order
/// already failed or released stays as it is: the cancel came too late and changes nothing.
/// </summary>
public sealed class CancelOrder(ILogger<CancelOrder> logger) : IEventHandler<OrderCancelRequestedV1>
{
    public async Task HandleAsync(OrderCancelRequestedV1 cancel, EventContext context, CancellationToken ct)
    {
        var tx = context.Transaction;
        var hold = await OrderHoldStore.LockOrCreateAsync(tx, cancel.OrderId, ct);
        switch (OrderHold.OnCancelRequested(hold))
        {
            case StockAction.CloseUnreserved:
                await OrderHoldStore.SetAsync(tx, cancel.OrderId, HoldStatus.Released, FailureReasons.Cancelled, ct);
                context.Publish(new InventoryReleasedV1(cancel.OrderId, [], FailureReasons.Cancelled));
                break;
            case StockAction.Release:
                var released = await StockStore.ReleaseAsync(tx, cancel.OrderId, ct);
                await OrderHoldStore.SetAsync(tx, cancel.OrderId, HoldStatus.Released, FailureReasons.Cancelled, ct);
                context.Publish(new InventoryReleasedV1(cancel.OrderId, released, FailureReasons.Cancelled));
                break;
            case StockAction.Return:
                var returned = await StockStore.ReturnAsync(tx, cancel.OrderId, ct);
                await OrderHoldStore.SetAsync(tx, cancel.OrderId, HoldStatus.Returned, FailureReasons.Cancelled, ct);
                context.Publish(new InventoryReturnedV1(cancel.OrderId, returned, FailureReasons.Cancelled));
                break;
            default:
                logger.LogInformation("Cancel of order {OrderId} ignored: it is already {Status}", cancel.OrderId, hold);
                break;
        }
    }
}
