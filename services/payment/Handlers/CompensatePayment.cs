using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Messaging;
using OrderStream.Payment.Domain;

namespace OrderStream.Payment.Handlers;

/// <summary>
/// inventory.released → void a held authorization (payment.voided), or close an order not decided yet;
/// inventory.returned → refund the confirmed order's payment (payment.refunded).
/// </summary>
public sealed class CompensatePayment(ILogger<CompensatePayment> logger) :
    IEventHandler<InventoryReleasedV1, PaymentBook>,
    IEventHandler<InventoryReturnedV1, PaymentBook>
{
    public Task HandleAsync(InventoryReleasedV1 released, PaymentBook book, EventContext context, CancellationToken ct) =>
        Apply(book, released.OrderId, Compensation.OnReleased(book.Find(released.OrderId)?.Status), released.Reason, context);

    public Task HandleAsync(InventoryReturnedV1 returned, PaymentBook book, EventContext context, CancellationToken ct) =>
        Apply(book, returned.OrderId, Compensation.OnReturned(book.Find(returned.OrderId)?.Status), returned.Reason, context);

    private Task Apply(PaymentBook book, Guid orderId, PaymentAction action, string reason, EventContext context)
    {
        switch (action)
        {
            case PaymentAction.Close:
                book.Close(orderId, reason);
                logger.LogInformation("Order {OrderId} closed ({Reason}) before payment decided: it will not be authorized", orderId, reason);
                break;
            case PaymentAction.Void:
                var voided = book.MoveFromAuthorized(orderId, PaymentStatus.Voided, reason);
                context.Publish(new PaymentVoidedV1(orderId, voided.PaymentId, voided.Amount, voided.Currency, reason));
                break;
            case PaymentAction.Refund:
                var refunded = book.MoveFromAuthorized(orderId, PaymentStatus.Refunded, reason);
                context.Publish(new PaymentRefundedV1(orderId, refunded.PaymentId, refunded.Amount, refunded.Currency, reason));
                break;
        }
        return Task.CompletedTask;
    }
}
