using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>
/// The <see cref="StockBook"/> of one consumer transaction (scoped, so one per transaction, which may
/// apply a whole batch of events): the first handler loads and locks it for every event of the
/// transaction in one round trip, the others share it, and its changes are written back in one round
/// trip just before the commit. The handlers then decide in memory, one event after another, in order.
/// </summary>
public sealed class TransactionBook
{
    private StockBook? _book;

    public async ValueTask<StockBook> OpenAsync(EventContext context, CancellationToken ct)
    {
        if (_book is not null) return _book;
        var events = context.TransactionEvents;
        var skus = events.OfType<OrderCreatedV1>().SelectMany(order => order.Items).Select(item => item.Sku);
        var book = await StockBookStore.LoadAsync(context.Transaction, events.Select(e => e.OrderId), skus, ct);
        context.BeforeCommit(token => StockBookStore.SaveAsync(context.Transaction, book.Changes(), token));
        return _book = book;
    }
}
