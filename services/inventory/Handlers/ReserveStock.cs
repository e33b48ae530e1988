using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>order.created → reserve every line or none → inventory.reserved or inventory.failed (nothing if the order was already cancelled).</summary>
public sealed class ReserveStock : IEventHandler<OrderCreatedV1>
{
    public async Task HandleAsync(OrderCreatedV1 order, EventContext context, CancellationToken ct)
    {
        var tx = context.Transaction;
        var hold = await OrderHoldStore.LockOrCreateAsync(tx, order.OrderId, ct);
        if (OrderHold.OnOrderCreated(hold) != StockAction.Reserve) return;

        var stock = await StockStore.LockAsync(tx, order.Items.Select(i => i.Sku), ct);
        var decision = Reservation.Decide(stock, order.Items);
        if (!decision.Ok)
        {
            await OrderHoldStore.SetAsync(tx, order.OrderId, HoldStatus.Failed, decision.FailureReason, ct);
            context.Publish(new InventoryFailedV1(order.OrderId, decision.FailureReason!, decision.FailedSku));
            return;
        }
        await StockStore.ReserveAsync(tx, order.OrderId, decision.Lines, ct);
        await OrderHoldStore.MarkReservedAsync(tx, order.OrderId, MessagingTelemetry.CaptureCurrent(), ct);
        context.Publish(new InventoryReservedV1(order.OrderId, order.UserId, order.Items, order.Amount, order.Currency));
    }
}
