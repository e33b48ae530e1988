using OrderStream.Contracts;

namespace OrderStream.Payment.Domain;

/// <summary>One order's payment decision (<c>payments</c>).</summary>
public sealed record PaymentRecord(Guid OrderId, Guid PaymentId, string Status, decimal Amount, string Currency, string? Reason);

/// <summary>What a <see cref="PaymentBook"/> changed, to be written back in one round trip.</summary>
public sealed record PaymentChanges(
    IReadOnlyList<PaymentRecord> Decided,
    IReadOnlyList<PaymentRecord> Moved,
    IReadOnlyList<(Guid OrderId, string Reason)> Closed)
{
    public bool IsEmpty => Decided.Count == 0 && Moved.Count == 0 && Closed.Count == 0;
}

/// <summary>
/// The payments and closed orders of a batch of orders, as they stood when the batch locked them. The
/// handlers take their steps on it one event after another, so an order decided, closed or voided
/// earlier in the batch is seen by the events after it; nothing else can change these orders meanwhile.
/// </summary>
public sealed class PaymentBook
{
    private readonly Dictionary<Guid, PaymentRecord> _payments;
    private readonly HashSet<Guid> _closed;
    private readonly Dictionary<Guid, PaymentRecord> _decided = [];
    private readonly Dictionary<Guid, PaymentRecord> _moved = [];
    private readonly List<(Guid, string)> _closings = [];

    public PaymentBook(IEnumerable<PaymentRecord> payments, IEnumerable<Guid> closedOrders)
    {
        _payments = payments.ToDictionary(p => p.OrderId);
        _closed = [.. closedOrders];
    }

    public PaymentRecord? Find(Guid orderId) => _payments.GetValueOrDefault(orderId);

    /// <summary>
    /// Whether the order still awaits its decision: not decided yet (a second reservation event decides
    /// nothing twice) and not closed by inventory before payment got to it.
    /// </summary>
    public bool AwaitsDecision(Guid orderId) => !_payments.ContainsKey(orderId) && !_closed.Contains(orderId);

    public void Decide(PaymentRecord payment)
    {
        if (!AwaitsDecision(payment.OrderId)) throw new InvalidOperationException($"Order {payment.OrderId}: already decided or closed");
        _payments[payment.OrderId] = payment;
        _decided[payment.OrderId] = payment;
    }

    /// <summary>Remembers that inventory closed an undecided order, so a later reservation event authorizes nothing.</summary>
    public void Close(Guid orderId, string reason)
    {
        if (Find(orderId) is not null) throw new InvalidOperationException($"Order {orderId}: decided, it cannot be closed");
        if (_closed.Add(orderId)) _closings.Add((orderId, reason));
    }

    /// <summary>Only an AUTHORIZED payment moves (to VOIDED or REFUNDED), and only once.</summary>
    public PaymentRecord MoveFromAuthorized(Guid orderId, string status, string reason)
    {
        var payment = Find(orderId);
        if (payment?.Status != PaymentStatus.Authorized)
            throw new InvalidOperationException($"Order {orderId}: payment not {PaymentStatus.Authorized}, cannot become {status}");
        var moved = payment with { Status = status, Reason = reason };
        _payments[orderId] = moved;
        // Decided and moved in the same batch: the row is still to be inserted, already in its new state.
        if (_decided.ContainsKey(orderId)) _decided[orderId] = moved;
        else _moved[orderId] = moved;
        return moved;
    }

    public PaymentChanges Changes() => new([.. _decided.Values], [.. _moved.Values], [.. _closings]);
}
