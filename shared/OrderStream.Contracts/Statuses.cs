namespace OrderStream.Contracts;

// Every status and reason code of the saga, defined once: the services' SQL, the books checker, the
// dashboard and the load tool all use these. Where a migration needs them as literals (a CHECK
// constraint, a partial index), UnitTests/MigrationLiteralTests proves the literals equal these.

/// <summary>
/// The order statuses of the view (<c>order_view.status</c>). PENDING moves to one settled status and
/// never back; the only moves after that are CONFIRMED → CANCELLED (a refund) and CONFIRMED → SHIPPED.
/// FAILED, CANCELLED and SHIPPED never change.
/// </summary>
public static class OrderStatus
{
    public const string Pending = "PENDING";
    public const string Confirmed = "CONFIRMED";
    public const string Failed = "FAILED";
    public const string Cancelled = "CANCELLED";
    /// <summary>Fulfilment dispatched the confirmed order's goods (shipment.dispatched.v1).</summary>
    public const string Shipped = "SHIPPED";

    /// <summary>Every status, in the saga's order (what a status filter accepts).</summary>
    public static readonly IReadOnlyList<string> All = [Pending, Confirmed, Failed, Cancelled, Shipped];

    /// <summary>Settled: the saga has an outcome (polling clients get 200).</summary>
    public static bool IsTerminal(string status) => status is Confirmed or Failed or Cancelled or Shipped;

    /// <summary>Nothing can change it any more, not even a cancel.</summary>
    public static bool IsFinal(string status) => status is Failed or Cancelled or Shipped;

    /// <summary>The order was sold and stays sold: CONFIRMED, or SHIPPED after it (what the books count as sold and paid).</summary>
    public static bool IsSold(string status) => status is Confirmed or Shipped;
}

/// <summary>The reason codes carried by failure events and the order view.</summary>
public static class FailureReasons
{
    public const string OutOfStock = "OUT_OF_STOCK";
    public const string UnknownSku = "UNKNOWN_SKU";
    public const string PaymentDeclined = "PAYMENT_DECLINED";
    /// <summary>No payment result reached inventory before the saga deadline (<c>Saga__Deadline</c>): the reservation was released.</summary>
    public const string SagaTimeout = "SAGA_TIMEOUT";
    /// <summary>The order was cancelled on request; also the view's reason for a cancelled order when the client gave none.</summary>
    public const string Cancelled = "CANCELLED";
}

/// <summary>The payment statuses (<c>payments.status</c>, payment's database). Only AUTHORIZED is money captured.</summary>
public static class PaymentStatus
{
    public const string Authorized = "AUTHORIZED";
    public const string Declined = "DECLINED";
    public const string Voided = "VOIDED";
    public const string Refunded = "REFUNDED";
}

/// <summary>What inventory holds for one order (<c>inventory_orders.status</c>, inventory's database).</summary>
public static class HoldStatus
{
    /// <summary>Only inside a transaction: the row was just created to lock the order, nothing decided yet.</summary>
    public const string New = "NEW";
    public const string Reserved = "RESERVED";
    public const string Failed = "FAILED";
    public const string Sold = "SOLD";
    public const string Released = "RELEASED";
    public const string Returned = "RETURNED";
}

/// <summary>The status of a reservation line (<c>reservations.status</c>, inventory's database).</summary>
public static class ReservationStatus
{
    public const string Reserved = "RESERVED";
    public const string Sold = "SOLD";
    public const string Released = "RELEASED";
    public const string Returned = "RETURNED";
}

/// <summary>
/// The kinds of <see cref="InventoryAdjustedV1"/> (and <c>stock_receipts.kind</c>): new stock received, a correction
/// (either sign), or a vendor's reported quantity applied to a vendor-fed SKU (either sign).
/// </summary>
public static class AdjustmentKinds
{
    public const string Receipt = "RECEIPT";
    public const string Adjustment = "ADJUSTMENT";
    /// <summary>Inventory's vendor sync set a vendor-fed SKU's available to what the vendor can still supply, less what is reserved.</summary>
    public const string VendorSync = "VENDOR_SYNC";
}

/// <summary>Where fulfilment stands with one order (<c>shipments.status</c>, fulfilment's database).</summary>
public static class ShipmentStatus
{
    /// <summary>Sold, no ship request yet: the goods wait for the seller.</summary>
    public const string Awaiting = "AWAITING";
    /// <summary>A seller asked to ship, the sale has not reached fulfilment yet (the request overtook it).</summary>
    public const string Requested = "REQUESTED";
    public const string Dispatched = "DISPATCHED";
    /// <summary>The sale was returned (a cancel before any ship request): nothing will ship.</summary>
    public const string Cancelled = "CANCELLED";
}
