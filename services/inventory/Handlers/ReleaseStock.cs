using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>payment.failed → compensation: the reservation goes back to stock → inventory.released.</summary>
public sealed class ReleaseStock(TransactionBook transaction, ILogger<ReleaseStock> logger) : IEventHandler<PaymentFailedV1>
{
    public async Task HandleAsync(PaymentFailedV1 payment, EventContext context, CancellationToken ct)
    {
        var book = await transaction.OpenAsync(context, ct);
        var hold = book.Status(payment.OrderId);
        if (OrderHold.OnPaymentFailed(hold) != StockAction.Release)
        {
            logger.LogWarning("Payment failed for order {OrderId} whose reservation is {Status}: nothing to release", payment.OrderId, hold);
            return;
        }
        context.Publish(new InventoryReleasedV1(payment.OrderId, book.Release(payment.OrderId, payment.Reason), payment.Reason));
    }
}
