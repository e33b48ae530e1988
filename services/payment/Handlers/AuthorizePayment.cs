using Dapper;
using OrderStream.Contracts;
using OrderStream.Messaging;
using OrderStream.Payment.Data;
using OrderStream.Payment.Domain;

namespace OrderStream.Payment.Handlers;

/// <summary>
/// inventory.reserved → authorize or decline the order's amount → payment.authorized or payment.failed.
/// An order inventory already closed (its release got here first) is not authorized at all.
/// </summary>
public sealed class AuthorizePayment(PaymentSettings settings) : IEventHandler<InventoryReservedV1>
{
    private const string InsertSql = """
        INSERT INTO payments (order_id, payment_id, status, amount, currency, reason)
        VALUES (@OrderId, @PaymentId, @Status, @Amount, @Currency, @Reason)
        ON CONFLICT (order_id) DO NOTHING
        """;

    public async Task HandleAsync(InventoryReservedV1 reserved, EventContext context, CancellationToken ct)
    {
        if (await PaymentStore.LockAndIsClosedAsync(context.Transaction, reserved.OrderId, ct)) return;

        var current = settings.Current;
        // The simulated provider call; it runs inside the consumer's transaction, as a real call's wait would hold the message.
        if (current.ExtraLatencyMs > 0) await Task.Delay(current.ExtraLatencyMs, ct);
        var declined = PaymentDecision.ShouldDecline(reserved.OrderId, reserved.UserId, current);
        var paymentId = Guid.CreateVersion7();
        var inserted = await context.Connection.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            reserved.OrderId,
            PaymentId = paymentId,
            Status = declined ? PaymentStatus.Declined : PaymentStatus.Authorized,
            reserved.Amount,
            reserved.Currency,
            Reason = declined ? FailureReasons.PaymentDeclined : null,
        }, context.Transaction, cancellationToken: ct));
        // The order already has a payment decision (a second reservation event for it): decide nothing twice.
        if (inserted == 0) return;

        if (declined) context.Publish(new PaymentFailedV1(reserved.OrderId, paymentId, FailureReasons.PaymentDeclined));
        else context.Publish(new PaymentAuthorizedV1(reserved.OrderId, paymentId, reserved.Amount, reserved.Currency));
    }
}
