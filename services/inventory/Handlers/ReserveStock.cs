using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>order.created → reserve every line or none → inventory.reserved or inventory.failed.</summary>
public sealed class ReserveStock : IEventHandler<OrderCreatedV1>
{
    public async Task HandleAsync(OrderCreatedV1 order, EventContext context, CancellationToken ct)
    {
        var stock = await StockStore.LockAsync(context.Transaction, order.Items.Select(i => i.Sku), ct);
        var decision = Reservation.Decide(stock, order.Items);
        if (!decision.Ok)
        {
            context.Publish(new InventoryFailedV1(order.OrderId, decision.FailureReason!, decision.FailedSku));
            return;
        }
        await StockStore.ReserveAsync(context.Transaction, order.OrderId, decision.Lines, ct);
        context.Publish(new InventoryReservedV1(order.OrderId, order.UserId, order.Items, order.Amount, order.Currency));
    }
}
