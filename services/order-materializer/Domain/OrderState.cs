using OrderStream.Contracts;

namespace OrderStream.OrderMaterializer.Domain;

/// <summary>Which saga events of an order the materializer has seen. Facts only accumulate.</summary>
public sealed record OrderFacts(
    bool Created = false,
    bool Reserved = false,
    string? InventoryFailure = null,
    bool PaymentAuthorized = false,
    string? PaymentFailure = null,
    bool Released = false);

public static class OrderState
{
    /// <summary>
    /// The status a set of facts means. A pure function of the set, so any arrival order of the same
    /// events gives the same answer. An order settles only once its created event is in, so a settled
    /// view always has its items and amount.
    /// </summary>
    public static (string Status, string? Reason) Derive(OrderFacts facts) => facts switch
    {
        { Created: false } => (OrderStatus.Pending, null),
        { InventoryFailure: { } reason } => (OrderStatus.Failed, reason),
        { PaymentFailure: { } reason } => (OrderStatus.Failed, reason),
        { PaymentAuthorized: true } => (OrderStatus.Confirmed, null),
        _ => (OrderStatus.Pending, null),
    };

    /// <summary>The next status: a terminal status wins and never changes, even if a contradicting event ever arrived.</summary>
    public static (string Status, string? Reason) Next(string current, string? currentReason, OrderFacts facts) =>
        OrderStatus.IsTerminal(current) ? (current, currentReason) : Derive(facts);
}
