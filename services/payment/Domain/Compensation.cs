using OrderStream.Contracts;

namespace OrderStream.Payment.Domain;

public enum PaymentAction
{
    /// <summary>Nothing to undo (declined, already voided or refunded: a duplicate or a late event).</summary>
    None,
    Void,
    Refund,
    /// <summary>No decision yet: remember the order is closed, so its reservation event (if it comes) authorizes nothing.</summary>
    Close,
}

/// <summary>
/// What payment does when inventory gives an order's goods back. Inventory decides between sale and
/// release; payment follows: an authorization whose goods were released is voided (nothing was sold),
/// one whose goods were returned is refunded.
/// </summary>
public static class Compensation
{
    /// <summary>inventory.released (any reason): a held authorization is voided.</summary>
    public static PaymentAction OnReleased(string? status) => status switch
    {
        null => PaymentAction.Close,
        PaymentStatus.Authorized => PaymentAction.Void,
        _ => PaymentAction.None,
    };

    /// <summary>inventory.returned: a sold order's goods came back, its payment is refunded.</summary>
    public static PaymentAction OnReturned(string? status) => status switch
    {
        null => PaymentAction.Close,
        PaymentStatus.Authorized => PaymentAction.Refund,
        _ => PaymentAction.None,
    };
}
