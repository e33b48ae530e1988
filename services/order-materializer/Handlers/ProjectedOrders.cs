using OrderStream.Contracts;
using OrderStream.OrderMaterializer.Data;
using OrderStream.OrderMaterializer.Domain;

namespace OrderStream.OrderMaterializer.Handlers;

/// <summary>
/// The views of one consumer transaction's orders, as its events fold into them in memory: loaded
/// (locked) together, written back together, then put in the cache.
/// </summary>
public sealed class ProjectedOrders(Dictionary<Guid, OrderViewStore.Current> current)
{
    /// <summary>One order's view so far in this transaction.</summary>
    public sealed class Order(Guid orderId, OrderViewStore.Current current)
    {
        public Guid OrderId { get; } = orderId;
        public bool IsNew { get; } = current.IsNew;
        public string Status { get; set; } = current.Status;
        public string? Reason { get; set; } = current.Reason;
        public OrderFacts Facts { get; set; } = current.Facts;
        public OrderCreatedV1? Created { get; set; }
        /// <summary>The priced reservation, if it came in this transaction: its lines and amount replace the order's in the view.</summary>
        public InventoryReservedV2? Priced { get; set; }
        public List<Envelope> Events { get; } = [];
        /// <summary>Each move to a settled status in this transaction: the status, reason, and whether it settled a PENDING order.</summary>
        public List<(string Status, string? Reason, bool FromPending)> Settlements { get; } = [];
    }

    private readonly Dictionary<Guid, Order> _orders = current.ToDictionary(r => r.Key, r => new Order(r.Key, r.Value));

    public Order this[Guid orderId] => _orders[orderId];

    /// <summary>The orders an event of this transaction changed.</summary>
    public List<Order> Touched() => [.. _orders.Values.Where(o => o.Events.Count > 0)];

    /// <summary>The views as saved, read back for the cache (set by the save).</summary>
    public IReadOnlyList<OrderView> Saved { get; set; } = [];
}
