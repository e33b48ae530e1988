namespace OrderStream.Contracts;

// A v1 record is frozen: an optional field may be added (consumers ignore unknown fields);
// anything else is a new .v2 topic and record. Each has a JSON schema in docs/events/.

/// <summary>
/// One line of an order: <paramref name="Qty"/> units of <paramref name="Sku"/> at <paramref name="Price"/> each. In an
/// order.created it is the price the client quoted (0 when it quoted none), which decides nothing: inventory prices the
/// order from its catalogue. In the order view it is the catalogue's price once inventory reserved the order.
/// </summary>
public sealed record OrderLine(string Sku, int Qty, decimal Price);

/// <summary><paramref name="Qty"/> units of <paramref name="Sku"/>, without a price (stock movements).</summary>
public sealed record SkuQuantity(string Sku, int Qty);

/// <summary>The gateway accepted an order; the saga starts here.</summary>
public sealed record OrderCreatedV1(
    Guid OrderId, string UserId, IReadOnlyList<OrderLine> Items, decimal Amount, string Currency, DateTimeOffset CreatedAt) : IEvent
{
    public static string Topic => Topics.OrderCreated;
}

/// <summary>
/// Inventory reserved every line of the order, priced as the order asked (the client's prices). Retiring: no longer
/// written (see <see cref="InventoryReservedV2"/>), still read by payment and the materializer during the rollout.
/// </summary>
public sealed record InventoryReservedV1(
    Guid OrderId, string UserId, IReadOnlyList<OrderLine> Items, decimal Amount, string Currency) : IEvent
{
    public static string Topic => Topics.InventoryReservedV1;
}

/// <summary>One reserved line: <paramref name="Qty"/> units of <paramref name="Sku"/> at the catalogue's <paramref name="UnitPrice"/>.</summary>
public sealed record PricedLine(string Sku, int Qty, decimal UnitPrice);

/// <summary>
/// Inventory reserved every line of the order and priced each from its catalogue when it reserved it: one line per SKU
/// (lines of one SKU merged), <paramref name="Amount"/> = the sum of qty x unitPrice, in <paramref name="Currency"/>.
/// What payment authorizes and the order view shows; a price in the order request never gets here.
/// </summary>
public sealed record InventoryReservedV2(
    Guid OrderId, string UserId, IReadOnlyList<PricedLine> Lines, decimal Amount, string Currency) : IEvent
{
    public static string Topic => Topics.InventoryReserved;
}

/// <summary>Inventory reserved nothing: <paramref name="Reason"/> is <see cref="FailureReasons.OutOfStock"/> or <see cref="FailureReasons.UnknownSku"/>, for <paramref name="Sku"/>.</summary>
public sealed record InventoryFailedV1(Guid OrderId, string Reason, string? Sku) : IEvent
{
    public static string Topic => Topics.InventoryFailed;
}

/// <summary>
/// Inventory gave a reservation back to stock: <paramref name="Reason"/> is <see cref="FailureReasons.PaymentDeclined"/>
/// (payment failed), <see cref="FailureReasons.SagaTimeout"/> (no payment result before the deadline) or
/// <see cref="FailureReasons.Cancelled"/>. <paramref name="Items"/> is empty when an order was cancelled before anything was reserved.
/// </summary>
public sealed record InventoryReleasedV1(Guid OrderId, IReadOnlyList<SkuQuantity> Items, string Reason) : IEvent
{
    public static string Topic => Topics.InventoryReleased;
}

/// <summary>Payment authorized the order's amount.</summary>
public sealed record PaymentAuthorizedV1(Guid OrderId, Guid PaymentId, decimal Amount, string Currency) : IEvent
{
    public static string Topic => Topics.PaymentAuthorized;
}

/// <summary>Payment declined the order.</summary>
public sealed record PaymentFailedV1(Guid OrderId, Guid PaymentId, string Reason) : IEvent
{
    public static string Topic => Topics.PaymentFailed;
}

/// <summary>A client asked to cancel the order (<paramref name="Reason"/> is theirs, if they gave one). Inventory decides what it undoes.</summary>
public sealed record OrderCancelRequestedV1(Guid OrderId, string? Reason, DateTimeOffset RequestedAt) : IEvent
{
    public static string Topic => Topics.OrderCancelRequested;
}

/// <summary>Inventory turned the order's reservation into a sale: the order is confirmed (inventory, which owns the deadline, accepted the payment in time).</summary>
public sealed record InventorySoldV1(Guid OrderId, IReadOnlyList<SkuQuantity> Items) : IEvent
{
    public static string Topic => Topics.InventorySold;
}

/// <summary>Inventory put a sold order's goods back into available stock (a confirmed order was cancelled); <paramref name="Reason"/> is <see cref="FailureReasons.Cancelled"/>.</summary>
public sealed record InventoryReturnedV1(Guid OrderId, IReadOnlyList<SkuQuantity> Items, string Reason) : IEvent
{
    public static string Topic => Topics.InventoryReturned;
}

/// <summary>Payment voided an authorization whose goods were released (deadline passed or order cancelled before the sale): nothing was captured.</summary>
public sealed record PaymentVoidedV1(Guid OrderId, Guid PaymentId, decimal Amount, string Currency, string Reason) : IEvent
{
    public static string Topic => Topics.PaymentVoided;
}

/// <summary>Payment refunded a confirmed order whose goods were returned (the order was cancelled after it was confirmed).</summary>
public sealed record PaymentRefundedV1(Guid OrderId, Guid PaymentId, decimal Amount, string Currency, string Reason) : IEvent
{
    public static string Topic => Topics.PaymentRefunded;
}

/// <summary>
/// A seller asked to ship a CONFIRMED order (<paramref name="RequestedBy"/> is the seller's user id). The gateway decided it
/// under the order's lock: no cancel was requested before it, and none is accepted after it.
/// </summary>
public sealed record OrderShipRequestedV1(Guid OrderId, string RequestedBy, DateTimeOffset RequestedAt) : IEvent
{
    public static string Topic => Topics.OrderShipRequested;
}

/// <summary>
/// Fulfilment dispatched a sold order's goods as shipment <paramref name="ShipmentId"/> (once per order): the order is SHIPPED.
/// <paramref name="Items"/> are the sold lines, <paramref name="RequestedBy"/> the seller who asked.
/// </summary>
public sealed record ShipmentDispatchedV1(
    Guid OrderId, Guid ShipmentId, IReadOnlyList<SkuQuantity> Items, string RequestedBy, DateTimeOffset DispatchedAt) : IEvent
{
    public static string Topic => Topics.ShipmentDispatched;
}

/// <summary>The order view changed status; emitted by the materializer for downstream readers.</summary>
public sealed record OrderUpdatedV1(Guid OrderId, string Status, string? Reason, DateTimeOffset UpdatedAt) : IEvent
{
    public static string Topic => Topics.OrderUpdated;
}

/// <summary>
/// An operator changed a SKU's stock (a receipt or an adjustment, <paramref name="Quantity"/> signed),
/// leaving <paramref name="Available"/> available and <paramref name="Received"/> put in all told. Not
/// an order's event: keyed and correlated by SKU, so one SKU's changes stay in order.
/// </summary>
public sealed record InventoryAdjustedV1(
    Guid AdjustmentId, string Sku, long Quantity, string Kind, string? Reason, long Available, long Received, DateTimeOffset AdjustedAt) : IStockEvent
{
    public static string Topic => Topics.InventoryAdjusted;
}
