using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>
/// payment.authorized → the order's reservation becomes a sale → inventory.sold (the order is confirmed).
/// An authorization for a reservation already released (deadline or cancel) sells nothing: payment voids
/// it when it sees that release.
/// </summary>
public sealed class CommitSale(ILogger<CommitSale> logger) : IEventHandler<PaymentAuthorizedV1, StockBook>
{
    public Task HandleAsync(PaymentAuthorizedV1 payment, StockBook book, EventContext context, CancellationToken ct)
    {
        var hold = book.Status(payment.OrderId);
        if (OrderHold.OnPaymentAuthorized(hold) != StockAction.Sell)
        {
            logger.LogWarning("Payment authorized for order {OrderId} whose reservation is {Status}: no sale", payment.OrderId, hold);
            return Task.CompletedTask;
        }
        context.Publish(new InventorySoldV1(payment.OrderId, book.Sell(payment.OrderId)));
        return Task.CompletedTask;
    }
}
