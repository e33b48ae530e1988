using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>payment.failed → compensation: the reservation goes back to stock → inventory.released.</summary>
public sealed class ReleaseStock(ILogger<ReleaseStock> logger) : IEventHandler<PaymentFailedV1>
{
    public async Task HandleAsync(PaymentFailedV1 payment, EventContext context, CancellationToken ct)
    {
        var hold = await OrderHoldStore.LockAsync(context.Transaction, payment.OrderId, ct);
        if (OrderHold.OnPaymentFailed(hold) != StockAction.Release)
        {
            logger.LogWarning("Payment failed for order {OrderId} whose reservation is {Status}: nothing to release", payment.OrderId, hold ?? "unknown");
            return;
        }
        var released = await StockStore.ReleaseAsync(context.Transaction, payment.OrderId, ct);
        await OrderHoldStore.SetAsync(context.Transaction, payment.OrderId, HoldStatus.Released, payment.Reason, ct);
        context.Publish(new InventoryReleasedV1(payment.OrderId, released, payment.Reason));
    }
}
