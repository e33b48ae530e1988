using Npgsql;
using OrderStream.Contracts;
using OrderStream.Messaging;
using OrderStream.Payment.Data;
using OrderStream.Payment.Domain;

namespace OrderStream.Payment.Handlers;

/// <summary>
/// Payment's consumer transaction, which may apply a whole batch of events, works on one
/// <see cref="PaymentBook"/>: every order of the transaction locked and loaded in one round trip, decided
/// on in memory by the handlers, and written back in one round trip before the commit.
/// </summary>
public sealed class PaymentBatch : IBatchEventHandler<PaymentBook>
{
    public Task<PaymentBook> LoadAsync(IReadOnlyList<IOrderEvent> events, NpgsqlTransaction transaction, CancellationToken ct) =>
        PaymentStore.LoadAsync(transaction, events.Select(e => e.OrderId), ct);

    public Task SaveAsync(PaymentBook book, NpgsqlTransaction transaction, CancellationToken ct) =>
        PaymentStore.SaveAsync(transaction, book.Changes(), ct);
}
