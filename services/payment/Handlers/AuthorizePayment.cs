using OrderStream.Contracts;
using OrderStream.Messaging;
using OrderStream.Payment.Domain;

namespace OrderStream.Payment.Handlers;

/// <summary>
/// inventory.reserved → authorize or decline the order's amount → payment.authorized or payment.failed.
/// An order inventory already closed (its release got here first) is not authorized at all.
/// </summary>
public sealed class AuthorizePayment(PaymentSettings settings) : IEventHandler<InventoryReservedV1, PaymentBook>
{
    public async Task HandleAsync(InventoryReservedV1 reserved, PaymentBook book, EventContext context, CancellationToken ct)
    {
        // Closed by inventory first, or decided already (a second reservation event): decide nothing.
        if (!book.AwaitsDecision(reserved.OrderId)) return;

        var current = settings.Current;
        // The simulated provider call; it runs inside the consumer's transaction, as a real call's wait would hold the message.
        if (current.ExtraLatencyMs > 0) await Task.Delay(current.ExtraLatencyMs, ct);
        var declined = PaymentDecision.ShouldDecline(reserved.OrderId, reserved.UserId, current);
        var payment = new PaymentRecord(reserved.OrderId, Guid.CreateVersion7(),
            declined ? PaymentStatus.Declined : PaymentStatus.Authorized, reserved.Amount, reserved.Currency,
            declined ? FailureReasons.PaymentDeclined : null);
        book.Decide(payment);

        if (declined) context.Publish(new PaymentFailedV1(reserved.OrderId, payment.PaymentId, FailureReasons.PaymentDeclined));
        else context.Publish(new PaymentAuthorizedV1(reserved.OrderId, payment.PaymentId, reserved.Amount, reserved.Currency));
    }
}
