using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>payment.failed → compensation: the reservation goes back to stock → inventory.released.</summary>
public sealed class ReleaseStock(ILogger<ReleaseStock> logger) : IEventHandler<PaymentFailedV1, StockBook>
{
    public Task HandleAsync(PaymentFailedV1 payment, StockBook book, EventContext context, CancellationToken ct)
    {
        var hold = book.Status(payment.OrderId);
        if (OrderHold.OnPaymentFailed(hold) != StockAction.Release)
        {
            logger.LogWarning("Payment failed for order {OrderId} whose reservation is {Status}: nothing to release", payment.OrderId, hold);
            return Task.CompletedTask;
        }
        context.Publish(new InventoryReleasedV1(payment.OrderId, book.Release(payment.OrderId, payment.Reason), payment.Reason));
        return Task.CompletedTask;
    }
}
