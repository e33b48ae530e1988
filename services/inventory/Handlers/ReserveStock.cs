using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>order.created → reserve every line or none → inventory.reserved or inventory.failed (nothing if the order was already cancelled).</summary>
public sealed class ReserveStock(TransactionBook transaction) : IEventHandler<OrderCreatedV1>
{
    public async Task HandleAsync(OrderCreatedV1 order, EventContext context, CancellationToken ct)
    {
        var book = await transaction.OpenAsync(context, ct);
        if (OrderHold.OnOrderCreated(book.Status(order.OrderId)) != StockAction.Reserve) return;

        // The trace is kept with the reservation, so a release by the deadline joins the order's trace.
        var decision = book.Reserve(order.OrderId, order.Items, MessagingTelemetry.CaptureCurrent());
        if (decision.Ok)
            context.Publish(new InventoryReservedV1(order.OrderId, order.UserId, order.Items, order.Amount, order.Currency));
        else
            context.Publish(new InventoryFailedV1(order.OrderId, decision.FailureReason!, decision.FailedSku));
    }
}
