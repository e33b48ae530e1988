using OrderStream.Contracts;

namespace OrderStream.Fulfilment.Domain;

/// <summary>
/// What fulfilment knows of one order (<c>shipments</c>): its sold lines once the sale came, the ship request once
/// it came, and the dispatch once both had.
/// </summary>
public sealed record ShipmentRecord(
    Guid OrderId,
    string Status,
    IReadOnlyList<SkuQuantity>? Items = null,
    string? RequestedBy = null,
    DateTimeOffset? RequestedAt = null,
    Guid? ShipmentId = null,
    DateTimeOffset? DispatchedAt = null)
{
    public bool IsSold => Items is not null;
    public bool IsRequested => RequestedBy is not null;
}

/// <summary>What an event did to an order's shipment.</summary>
public enum ShipmentOutcome
{
    /// <summary>Nothing changed: a copy of a fact already recorded, or a fact that comes too late (the order was dispatched or cancelled).</summary>
    Unchanged,
    /// <summary>The fact was recorded; the shipment still waits for the other one (the sale or the request).</summary>
    Waiting,
    /// <summary>Sold and requested: dispatched now, exactly once.</summary>
    Dispatched,
    Cancelled,
}

/// <summary>
/// The shipments of a consumer transaction's orders, as they stood when the batch locked them, changed in memory one event
/// after another. The rule is a pure function of the facts, so the sale and the request may come in either order and any
/// number of times: an order is dispatched when both are in, once; a returned sale (a cancel that came before any ship
/// request, which the gateway then refuses) cancels a shipment that was not dispatched.
/// </summary>
public sealed class ShipmentBook(IEnumerable<ShipmentRecord> loaded)
{
    private readonly Dictionary<Guid, ShipmentRecord> _shipments = loaded.ToDictionary(s => s.OrderId);
    private readonly HashSet<Guid> _changed = [];

    public ShipmentRecord? Find(Guid orderId) => _shipments.GetValueOrDefault(orderId);

    public ShipmentOutcome Sold(Guid orderId, IReadOnlyList<SkuQuantity> items, DateTimeOffset now)
    {
        var current = Find(orderId) ?? new ShipmentRecord(orderId, ShipmentStatus.Awaiting);
        if (current.IsSold || current.Status is ShipmentStatus.Dispatched or ShipmentStatus.Cancelled) return ShipmentOutcome.Unchanged;
        return Settle(current with { Items = items }, now);
    }

    public ShipmentOutcome Requested(Guid orderId, string requestedBy, DateTimeOffset requestedAt, DateTimeOffset now)
    {
        var current = Find(orderId) ?? new ShipmentRecord(orderId, ShipmentStatus.Requested);
        if (current.IsRequested || current.Status is ShipmentStatus.Dispatched or ShipmentStatus.Cancelled) return ShipmentOutcome.Unchanged;
        return Settle(current with { RequestedBy = requestedBy, RequestedAt = requestedAt }, now);
    }

    /// <summary>A returned sale cancels the shipment, unless it was dispatched (then the goods are gone: the caller reports it).</summary>
    public ShipmentOutcome Returned(Guid orderId)
    {
        var current = Find(orderId);
        if (current?.Status is ShipmentStatus.Dispatched or ShipmentStatus.Cancelled) return ShipmentOutcome.Unchanged;
        Put((current ?? new ShipmentRecord(orderId, ShipmentStatus.Cancelled)) with { Status = ShipmentStatus.Cancelled });
        return ShipmentOutcome.Cancelled;
    }

    private ShipmentOutcome Settle(ShipmentRecord next, DateTimeOffset now)
    {
        if (next.IsSold && next.IsRequested)
        {
            Put(next with { Status = ShipmentStatus.Dispatched, ShipmentId = Guid.CreateVersion7(), DispatchedAt = now });
            return ShipmentOutcome.Dispatched;
        }
        Put(next with { Status = next.IsSold ? ShipmentStatus.Awaiting : ShipmentStatus.Requested });
        return ShipmentOutcome.Waiting;
    }

    private void Put(ShipmentRecord record)
    {
        _shipments[record.OrderId] = record;
        _changed.Add(record.OrderId);
    }

    /// <summary>The shipments this transaction changed, to be written back in one round trip.</summary>
    public IReadOnlyList<ShipmentRecord> Changed() => [.. _changed.Select(id => _shipments[id])];
}
