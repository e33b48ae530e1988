using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using OrderStream.Messaging;
using OrderStream.Payment.Data;
using OrderStream.Payment.Domain;

namespace OrderStream.Payment.Handlers;

/// <summary>
/// inventory.released → void a held authorization (payment.voided), or close an order not decided yet;
/// inventory.returned → refund the confirmed order's payment (payment.refunded).
/// </summary>
public sealed class CompensatePayment(ILogger<CompensatePayment> logger) :
    IEventHandler<InventoryReleasedV1>,
    IEventHandler<InventoryReturnedV1>
{
    public async Task HandleAsync(InventoryReleasedV1 released, EventContext context, CancellationToken ct)
    {
        var payment = await LockAsync(released.OrderId, context, ct);
        await ApplyAsync(released.OrderId, Compensation.OnReleased(payment?.Status), payment, released.Reason, context, ct);
    }

    public async Task HandleAsync(InventoryReturnedV1 returned, EventContext context, CancellationToken ct)
    {
        var payment = await LockAsync(returned.OrderId, context, ct);
        await ApplyAsync(returned.OrderId, Compensation.OnReturned(payment?.Status), payment, returned.Reason, context, ct);
    }

    private static async Task<PaymentStore.Payment?> LockAsync(Guid orderId, EventContext context, CancellationToken ct)
    {
        await PaymentStore.LockOrderAsync(context.Transaction, orderId, ct);
        return await PaymentStore.GetAsync(context.Transaction, orderId, ct);
    }

    private async Task ApplyAsync(Guid orderId, PaymentAction action, PaymentStore.Payment? payment, string reason, EventContext context, CancellationToken ct)
    {
        switch (action)
        {
            case PaymentAction.Close:
                await PaymentStore.CloseAsync(context.Transaction, orderId, reason, ct);
                logger.LogInformation("Order {OrderId} closed ({Reason}) before payment decided: it will not be authorized", orderId, reason);
                break;
            case PaymentAction.Void:
                await PaymentStore.MoveFromAuthorizedAsync(context.Transaction, orderId, PaymentStatus.Voided, reason, ct);
                context.Publish(new PaymentVoidedV1(orderId, payment!.PaymentId, payment.Amount, payment.Currency.Trim(), reason));
                break;
            case PaymentAction.Refund:
                await PaymentStore.MoveFromAuthorizedAsync(context.Transaction, orderId, PaymentStatus.Refunded, reason, ct);
                context.Publish(new PaymentRefundedV1(orderId, payment!.PaymentId, payment.Amount, payment.Currency.Trim(), reason));
                break;
        }
    }
}
