namespace OrderStream.Contracts;

// A v1 record is frozen: an optional field may be added (consumers ignore unknown fields);
// anything else is a new .v2 topic and record. Each has a JSON schema in docs/events/.

/// <summary>One line of an order: <paramref name="Qty"/> units of <paramref name="Sku"/> at <paramref name="Price"/> each.</summary>
public sealed record OrderLine(string Sku, int Qty, decimal Price);

/// <summary><paramref name="Qty"/> units of <paramref name="Sku"/>, without a price (stock movements).</summary>
public sealed record SkuQuantity(string Sku, int Qty);

/// <summary>The gateway accepted an order; the saga starts here.</summary>
public sealed record OrderCreatedV1(
    Guid OrderId, string UserId, IReadOnlyList<OrderLine> Items, decimal Amount, string Currency, DateTimeOffset CreatedAt) : IEvent
{
    public static string Topic => Topics.OrderCreated;
}

/// <summary>Inventory reserved every line of the order.</summary>
public sealed record InventoryReservedV1(
    Guid OrderId, string UserId, IReadOnlyList<OrderLine> Items, decimal Amount, string Currency) : IEvent
{
    public static string Topic => Topics.InventoryReserved;
}

/// <summary>Inventory reserved nothing: <paramref name="Reason"/> is <see cref="FailureReasons.OutOfStock"/> or <see cref="FailureReasons.UnknownSku"/>, for <paramref name="Sku"/>.</summary>
public sealed record InventoryFailedV1(Guid OrderId, string Reason, string? Sku) : IEvent
{
    public static string Topic => Topics.InventoryFailed;
}

/// <summary>Inventory gave a reservation back to stock (compensation after a failed payment).</summary>
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

/// <summary>The kinds of <see cref="InventoryAdjustedV1"/>: new stock received, or a correction (either sign).</summary>
public static class AdjustmentKinds
{
    public const string Receipt = "RECEIPT";
    public const string Adjustment = "ADJUSTMENT";
}

/// <summary>The reason codes carried by failure events and the order view.</summary>
public static class FailureReasons
{
    public const string OutOfStock = "OUT_OF_STOCK";
    public const string UnknownSku = "UNKNOWN_SKU";
    public const string PaymentDeclined = "PAYMENT_DECLINED";
}
