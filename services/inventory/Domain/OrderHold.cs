using OrderStream.Contracts;

namespace OrderStream.Inventory.Domain;

public enum StockAction
{
    /// <summary>Nothing to do: a duplicate, or an event that came after the order was closed.</summary>
    None,
    Reserve,
    Sell,
    Release,
    /// <summary>Put sold goods back into available stock (a confirmed order cancelled).</summary>
    Return,
    /// <summary>Close an order nothing was reserved for yet (cancelled before its order.created arrived), so it never will be.</summary>
    CloseUnreserved,
}

/// <summary>
/// Inventory's saga rules: which stock action an event means for an order in a given hold status.
/// Inventory owns the reservation and the deadline, so it is the one place that decides between a sale
/// and a release: whichever commits first under the order's row lock wins, and the other finds the
/// order closed and does nothing (payment voids a late authorization when it sees the release).
/// </summary>
public static class OrderHold
{
    public static StockAction OnOrderCreated(string status) =>
        status == HoldStatus.New ? StockAction.Reserve : StockAction.None;

    public static StockAction OnPaymentAuthorized(string? status) =>
        status == HoldStatus.Reserved ? StockAction.Sell : StockAction.None;

    public static StockAction OnPaymentFailed(string? status) =>
        status == HoldStatus.Reserved ? StockAction.Release : StockAction.None;

    public static StockAction OnCancelRequested(string status) => status switch
    {
        HoldStatus.New => StockAction.CloseUnreserved,
        HoldStatus.Reserved => StockAction.Release,
        HoldStatus.Sold => StockAction.Return,
        _ => StockAction.None, // failed, released or returned already: too late, nothing to undo
    };

    /// <summary>The deadline releases a reservation that got no payment result in time; anything else is left alone.</summary>
    public static StockAction OnDeadline(string status, DateTimeOffset reservedAt, DateTimeOffset now, TimeSpan deadline) =>
        status == HoldStatus.Reserved && now - reservedAt >= deadline ? StockAction.Release : StockAction.None;
}
