using OrderStream.Contracts;

namespace OrderStream.OrderMaterializer.Domain;

/// <summary>Which saga events of an order the materializer has seen. Facts only accumulate.</summary>
public sealed record OrderFacts(
    bool Created = false,
    bool Reserved = false,
    string? InventoryFailure = null,
    bool PaymentAuthorized = false,
    string? PaymentFailure = null,
    bool Released = false,
    string? ReleaseReason = null,
    bool Sold = false,
    bool Returned = false,
    bool CancelRequested = false,
    string? CancelReason = null,
    bool Voided = false,
    bool Refunded = false,
    bool ShipRequested = false,
    bool Dispatched = false);

public static class OrderState
{
    /// <summary>
    /// The status a set of facts means. A pure function of the set, so any arrival order of the same
    /// events gives the same answer. An order settles only once its created event is in, so a settled
    /// view always has its items and amount.
    /// <para>
    /// Every outcome is inventory's decision, because inventory owns the reservation and the deadline and
    /// makes exactly one of them per order: failed (nothing reserved), sold (CONFIRMED), released with a
    /// reason (FAILED with it, or CANCELLED), and after a sale possibly returned (CANCELLED). Payment's
    /// events alone settle nothing: an authorization may come after the deadline released the stock, and
    /// a decline may come after a cancel did, and then inventory's reason is the one that holds.
    /// A cancelled order also waits for the cancel request itself, whose reason the view shows. A sold order is
    /// SHIPPED once fulfilment dispatched it; the ship request alone changes nothing (it only shows in the timeline).
    /// </para>
    /// </summary>
    public static (string Status, string? Reason) Derive(OrderFacts facts) => facts switch
    {
        { Created: false } => (OrderStatus.Pending, null),
        { InventoryFailure: { } reason } => (OrderStatus.Failed, reason),
        { ReleaseReason: FailureReasons.Cancelled, CancelRequested: true } or { Returned: true, CancelRequested: true }
            => (OrderStatus.Cancelled, facts.CancelReason ?? FailureReasons.Cancelled),
        { ReleaseReason: FailureReasons.Cancelled } => (OrderStatus.Pending, null),
        { ReleaseReason: { } reason } => (OrderStatus.Failed, reason),
        // A dispatch seen before the sale waits for it: fulfilment dispatches only sold orders, so the sale is on its way.
        { Sold: true, Dispatched: true } => (OrderStatus.Shipped, null),
        { Sold: true } => (OrderStatus.Confirmed, null),
        _ => (OrderStatus.Pending, null),
    };

    /// <summary>
    /// The next status. It only moves forward: FAILED, CANCELLED and SHIPPED never change, and CONFIRMED changes
    /// only to CANCELLED (a confirmed order cancelled and refunded) or SHIPPED (dispatched).
    /// </summary>
    public static (string Status, string? Reason) Next(string current, string? currentReason, OrderFacts facts)
    {
        if (OrderStatus.IsFinal(current)) return (current, currentReason);
        var next = Derive(facts);
        if (current == OrderStatus.Confirmed && next.Status is not (OrderStatus.Cancelled or OrderStatus.Shipped)) return (current, currentReason);
        return next;
    }
}
