using OrderStream.Contracts;
using OrderStream.Messaging;
using OrderStream.Payment.Domain;

namespace OrderStream.Payment.Handlers;

/// <summary>
/// inventory.reserved → authorize or decline the amount inventory priced → payment.authorized or payment.failed.
/// An order inventory already closed (its release got here first) is not authorized at all. v2 carries the catalogue's
/// amount; v1, still read until it is retired, the amount its order asked for (events written before the rollout).
/// </summary>
public sealed class AuthorizePayment(PaymentSettings settings) :
    IEventHandler<InventoryReservedV2, PaymentBook>,
    IEventHandler<InventoryReservedV1, PaymentBook>
{
    public Task HandleAsync(InventoryReservedV2 reserved, PaymentBook book, EventContext context, CancellationToken ct) =>
        AuthorizeAsync(reserved.OrderId, reserved.UserId, reserved.Amount, reserved.Currency, book, context, ct);

    public Task HandleAsync(InventoryReservedV1 reserved, PaymentBook book, EventContext context, CancellationToken ct) =>
        AuthorizeAsync(reserved.OrderId, reserved.UserId, reserved.Amount, reserved.Currency, book, context, ct);

    private async Task AuthorizeAsync(Guid orderId, string userId, decimal amount, string currency, PaymentBook book, EventContext context, CancellationToken ct)
    {
        // Closed by inventory first, or decided already (a second reservation event, of either version): decide nothing.
        if (!book.AwaitsDecision(orderId)) return;

        var current = settings.Current;
        // The simulated provider call; it runs inside the consumer's transaction, as a real call's wait would hold the message.
        if (current.ExtraLatencyMs > 0) await Task.Delay(current.ExtraLatencyMs, ct);
        var declined = PaymentDecision.ShouldDecline(orderId, userId, current);
        var payment = new PaymentRecord(orderId, Guid.CreateVersion7(),
            declined ? PaymentStatus.Declined : PaymentStatus.Authorized, amount, currency,
            declined ? FailureReasons.PaymentDeclined : null);
        book.Decide(payment);

        if (declined) context.Publish(new PaymentFailedV1(orderId, payment.PaymentId, FailureReasons.PaymentDeclined));
        else context.Publish(new PaymentAuthorizedV1(orderId, payment.PaymentId, amount, currency));
    }
}
