using Npgsql;
using OrderStream.Contracts;
using OrderStream.Fulfilment.Data;
using OrderStream.Fulfilment.Domain;
using OrderStream.Messaging;

namespace OrderStream.Fulfilment.Handlers;

/// <summary>
/// Fulfilment's consumer transaction works on one <see cref="ShipmentBook"/>: the batch's orders locked and loaded in
/// one round trip, decided on in memory by <see cref="FulfilOrder"/>, the changed shipments written in one round trip
/// before the commit.
/// </summary>
public sealed class ShipmentBatch : IBatchEventHandler<ShipmentBook>
{
    public Task<ShipmentBook> LoadAsync(IReadOnlyList<IOrderEvent> events, NpgsqlTransaction transaction, CancellationToken ct) =>
        ShipmentStore.LoadAsync(transaction, events.Select(e => e.OrderId), ct);

    public Task SaveAsync(ShipmentBook book, NpgsqlTransaction transaction, CancellationToken ct) =>
        ShipmentStore.SaveAsync(transaction, book.Changed(), ct);
}
