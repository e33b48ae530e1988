using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>order.created → reserve every line or none → inventory.reserved or inventory.failed (nothing if the order was already cancelled).</summary>
public sealed class ReserveStock : IEventHandler<OrderCreatedV1, StockBook>
{
    public Task HandleAsync(OrderCreatedV1 order, StockBook book, EventContext context, CancellationToken ct)
    {
        if (OrderHold.OnOrderCreated(book.Status(order.OrderId)) != StockAction.Reserve) return Task.CompletedTask;

        // The trace is kept with the reservation, so a release by the deadline joins the order's trace.
        var decision = book.Reserve(order.OrderId, order.Items, MessagingTelemetry.CaptureCurrent());
        if (decision.Ok)
            context.Publish(new InventoryReservedV1(order.OrderId, order.UserId, order.Items, order.Amount, order.Currency));
        else
            context.Publish(new InventoryFailedV1(order.OrderId, decision.FailureReason!, decision.FailedSku));
        return Task.CompletedTask;
    }
}
