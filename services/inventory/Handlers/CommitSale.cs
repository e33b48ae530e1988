using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>
/// payment.authorized → the order's reservation becomes a sale → inventory.sold (the order is confirmed).
/// An authorization for a reservation already released (deadline or cancel) sells nothing: payment voids
/// it when it sees that release.
/// </summary>
public sealed class CommitSale(ILogger<CommitSale> logger) : IEventHandler<PaymentAuthorizedV1>
{
    public async Task HandleAsync(PaymentAuthorizedV1 payment, EventContext context, CancellationToken ct)
    {
        var hold = await OrderHoldStore.LockAsync(context.Transaction, payment.OrderId, ct);
        if (OrderHold.OnPaymentAuthorized(hold) != StockAction.Sell)
        {
            logger.LogWarning("Payment authorized for order {OrderId} whose reservation is {Status}: no sale", payment.OrderId, hold ?? "unknown");
            return;
        }
        var sold = await StockStore.SellAsync(context.Transaction, payment.OrderId, ct);
        await OrderHoldStore.SetAsync(context.Transaction, payment.OrderId, HoldStatus.Sold, null, ct);
        context.Publish(new InventorySoldV1(payment.OrderId, sold));
    }
}
