using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>payment.authorized → the order's reservation becomes a sale.</summary>
public sealed class CommitSale(ILogger<CommitSale> logger) : IEventHandler<PaymentAuthorizedV1>
{
    public async Task HandleAsync(PaymentAuthorizedV1 payment, EventContext context, CancellationToken ct)
    {
        var sold = await StockStore.SellAsync(context.Transaction, payment.OrderId, ct);
        if (sold.Count == 0) logger.LogWarning("Payment authorized for order {OrderId} without an open reservation", payment.OrderId);
    }
}
