using OrderStream.Messaging;
using OrderStream.Payment.Data;
using OrderStream.Payment.Domain;

namespace OrderStream.Payment.Handlers;

/// <summary>
/// The <see cref="PaymentBook"/> of one consumer transaction (scoped, so one per transaction, which may
/// apply a whole batch of events): the first handler locks and loads every order of the transaction in
/// one round trip, the others share it, and its changes are written back in one round trip just before
/// the commit.
/// </summary>
public sealed class TransactionPayments
{
    private PaymentBook? _book;

    public async ValueTask<PaymentBook> OpenAsync(EventContext context, CancellationToken ct)
    {
        if (_book is not null) return _book;
        var book = await PaymentStore.LoadAsync(context.Transaction, context.TransactionEvents.Select(e => e.OrderId), ct);
        context.BeforeCommit(token => PaymentStore.SaveAsync(context.Transaction, book.Changes(), token));
        return _book = book;
    }
}
