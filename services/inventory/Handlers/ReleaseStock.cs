using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>payment.failed → compensation: the reservation goes back to stock → inventory.released.</summary>
public sealed class ReleaseStock(ILogger<ReleaseStock> logger) : IEventHandler<PaymentFailedV1>
{
    public async Task HandleAsync(PaymentFailedV1 payment, EventContext context, CancellationToken ct)
    {
        var released = await StockStore.ReleaseAsync(context.Transaction, payment.OrderId, ct);
        if (released.Count == 0)
        {
            logger.LogWarning("Payment failed for order {OrderId} without an open reservation", payment.OrderId);
            return;
        }
        context.Publish(new InventoryReleasedV1(payment.OrderId, released, payment.Reason));
    }
}
