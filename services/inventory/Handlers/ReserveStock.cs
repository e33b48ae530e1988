using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>
/// order.created → reserve every line or none, priced from the catalogue → inventory.reserved.v2 or inventory.failed
/// (nothing if the order was already cancelled). The prices the order carries are the client's and decide nothing.
/// </summary>
public sealed class ReserveStock : IEventHandler<OrderCreatedV1, StockBook>
{
    public Task HandleAsync(OrderCreatedV1 order, StockBook book, EventContext context, CancellationToken ct)
    {
        if (OrderHold.OnOrderCreated(book.Status(order.OrderId)) != StockAction.Reserve) return Task.CompletedTask;

        // The trace is kept with the reservation, so a release by the deadline joins the order's trace.
        var decision = book.Reserve(order.OrderId, order.Items, order.Currency, MessagingTelemetry.CaptureCurrent());
        if (decision.Ok)
            context.Publish(new InventoryReservedV2(order.OrderId, order.UserId, decision.Priced, decision.Amount, order.Currency));
        else
            context.Publish(new InventoryFailedV1(order.OrderId, decision.FailureReason!, decision.FailedSku));
        return Task.CompletedTask;
    }
}
