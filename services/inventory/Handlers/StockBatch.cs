using Npgsql;
using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.Inventory.Domain;
using OrderStream.Messaging;

namespace OrderStream.Inventory.Handlers;

/// <summary>
/// Inventory's consumer transaction, which may apply a whole batch of events, works on one
/// <see cref="StockBook"/>: loaded and locked in one round trip (every order of the transaction, and the
/// stock rows of the orders being created), decided on in memory by the handlers one event after another,
/// in order, and written back in one round trip before the commit.
/// </summary>
public sealed class StockBatch : IBatchEventHandler<StockBook>
{
    public Task<StockBook> LoadAsync(IReadOnlyList<IOrderEvent> events, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var skus = events.OfType<OrderCreatedV1>().SelectMany(order => order.Items).Select(item => item.Sku);
        return StockBookStore.LoadAsync(transaction, events.Select(e => e.OrderId), skus, ct);
    }

    public Task SaveAsync(StockBook book, NpgsqlTransaction transaction, CancellationToken ct) =>
        StockBookStore.SaveAsync(transaction, book.Changes(), ct);
}
