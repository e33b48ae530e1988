using OrderStream.Contracts;
using OrderStream.OrderMaterializer.Domain;

namespace OrderStream.UnitTests;

public class OrderStateTests
{
    private const string Reason = "changed my mind";
    private const string ReleasedDeclined = Topics.InventoryReleased + " " + FailureReasons.PaymentDeclined;
    private const string ReleasedTimeout = Topics.InventoryReleased + " " + FailureReasons.SagaTimeout;
    private const string ReleasedCancelled = Topics.InventoryReleased + " " + FailureReasons.Cancelled;

    private static readonly Dictionary<string, Func<OrderFacts, OrderFacts>> Events = new()
    {
        [Topics.OrderCreated] = f => f with { Created = true },
        [Topics.InventoryReserved] = f => f with { Reserved = true },
        [Topics.InventoryFailed] = f => f with { InventoryFailure = FailureReasons.OutOfStock },
        [Topics.PaymentAuthorized] = f => f with { PaymentAuthorized = true },
        [Topics.PaymentFailed] = f => f with { PaymentFailure = FailureReasons.PaymentDeclined },
        [Topics.InventorySold] = f => f with { Sold = true },
        [ReleasedDeclined] = f => f with { Released = true, ReleaseReason = FailureReasons.PaymentDeclined },
        [ReleasedTimeout] = f => f with { Released = true, ReleaseReason = FailureReasons.SagaTimeout },
        [ReleasedCancelled] = f => f with { Released = true, ReleaseReason = FailureReasons.Cancelled },
        [Topics.OrderCancelRequested] = f => f with { CancelRequested = true, CancelReason = Reason },
        [Topics.InventoryReturned] = f => f with { Returned = true },
        [Topics.PaymentVoided] = f => f with { Voided = true },
        [Topics.PaymentRefunded] = f => f with { Refunded = true },
        [Topics.OrderShipRequested] = f => f with { ShipRequested = true },
        [Topics.ShipmentDispatched] = f => f with { Dispatched = true },
    };

    public static TheoryData<string[], string, string?> Sagas => new()
    {
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentAuthorized, Topics.InventorySold], OrderStatus.Confirmed, null },
        { [Topics.OrderCreated, Topics.InventoryFailed], OrderStatus.Failed, FailureReasons.OutOfStock },
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentFailed, ReleasedDeclined], OrderStatus.Failed, FailureReasons.PaymentDeclined },
        { [Topics.OrderCreated, Topics.InventoryReserved], OrderStatus.Pending, null },
        // An authorization alone confirms nothing: inventory may have released the stock at the deadline.
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentAuthorized], OrderStatus.Pending, null },
        { [Topics.OrderCreated, Topics.InventoryReserved, ReleasedTimeout], OrderStatus.Failed, FailureReasons.SagaTimeout },
        // A payment result after the deadline: voided (or declined), and the order stays timed out.
        { [Topics.OrderCreated, Topics.InventoryReserved, ReleasedTimeout, Topics.PaymentAuthorized, Topics.PaymentVoided], OrderStatus.Failed, FailureReasons.SagaTimeout },
        { [Topics.OrderCreated, Topics.InventoryReserved, ReleasedTimeout, Topics.PaymentFailed], OrderStatus.Failed, FailureReasons.SagaTimeout },
        // Cancelled before anything was reserved, after the reservation (a late authorization voided), after CONFIRMED (refund).
        { [Topics.OrderCreated, Topics.OrderCancelRequested, ReleasedCancelled], OrderStatus.Cancelled, Reason },
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.OrderCancelRequested, ReleasedCancelled, Topics.PaymentAuthorized, Topics.PaymentVoided], OrderStatus.Cancelled, Reason },
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentAuthorized, Topics.InventorySold, Topics.OrderCancelRequested, Topics.InventoryReturned, Topics.PaymentRefunded], OrderStatus.Cancelled, Reason },
        // Too late: the order had failed; the request changes nothing.
        { [Topics.OrderCreated, Topics.InventoryFailed, Topics.OrderCancelRequested], OrderStatus.Failed, FailureReasons.OutOfStock },
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentFailed, ReleasedDeclined, Topics.OrderCancelRequested], OrderStatus.Failed, FailureReasons.PaymentDeclined },
        // A cancel of a confirmed order that inventory has not handled yet: still CONFIRMED.
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentAuthorized, Topics.InventorySold, Topics.OrderCancelRequested], OrderStatus.Confirmed, null },
        // Shipped: the dispatch settles it, whenever the sale and the order itself come; the ship request alone changes nothing.
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentAuthorized, Topics.InventorySold, Topics.OrderShipRequested, Topics.ShipmentDispatched], OrderStatus.Shipped, null },
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentAuthorized, Topics.InventorySold, Topics.OrderShipRequested], OrderStatus.Confirmed, null },
    };

    [Theory]
    [MemberData(nameof(Sagas))]
    public void Every_arrival_order_of_a_sagas_events_gives_the_same_final_state_and_status_never_moves_backwards(string[] events, string status, string? reason)
    {
        foreach (var order in Permutations(events))
        {
            var (current, currentReason, facts) = (OrderStatus.Pending, (string?)null, new OrderFacts());
            foreach (var evt in order)
            {
                facts = Events[evt](facts);
                var (previous, previousReason) = (current, currentReason);
                (current, currentReason) = OrderState.Next(current, currentReason, facts);
                var path = string.Join(" > ", order);
                if (OrderStatus.IsFinal(previous)) Assert.True((previous, previousReason) == (current, currentReason), $"{previous} changed to {current} in {path}");
                if (previous == OrderStatus.Confirmed)
                    Assert.True(current is OrderStatus.Confirmed or OrderStatus.Cancelled or OrderStatus.Shipped, $"CONFIRMED moved to {current} in {path}");
            }
            Assert.Equal((status, reason), (current, currentReason));
        }
    }

    [Fact]
    public void Does_not_settle_before_the_order_itself_is_known()
    {
        var facts = new OrderFacts(Reserved: true, PaymentAuthorized: true, Sold: true);
        Assert.Equal(OrderStatus.Pending, OrderState.Derive(facts).Status);
        Assert.Equal(OrderStatus.Confirmed, OrderState.Derive(facts with { Created = true }).Status);
    }

    [Fact]
    public void A_final_status_wins_over_a_contradicting_event()
    {
        var facts = new OrderFacts(Created: true, Reserved: true, ReleaseReason: FailureReasons.SagaTimeout, Sold: true);
        Assert.Equal((OrderStatus.Failed, FailureReasons.SagaTimeout), OrderState.Next(OrderStatus.Failed, FailureReasons.SagaTimeout, facts));
        var cancelled = new OrderFacts(Created: true, Sold: true, Returned: true, CancelRequested: true);
        Assert.Equal((OrderStatus.Cancelled, "x"), OrderState.Next(OrderStatus.Cancelled, "x", cancelled with { InventoryFailure = FailureReasons.OutOfStock }));
    }

    [Fact]
    public void A_confirmed_order_only_moves_on_to_cancelled()
    {
        var confirmed = new OrderFacts(Created: true, Reserved: true, PaymentAuthorized: true, Sold: true);
        Assert.Equal((OrderStatus.Confirmed, (string?)null), OrderState.Next(OrderStatus.Confirmed, null, confirmed with { PaymentFailure = FailureReasons.PaymentDeclined }));
        Assert.Equal((OrderStatus.Confirmed, (string?)null), OrderState.Next(OrderStatus.Confirmed, null, confirmed with { Returned = true }));
        Assert.Equal((OrderStatus.Cancelled, FailureReasons.Cancelled),
            OrderState.Next(OrderStatus.Confirmed, null, confirmed with { Returned = true, CancelRequested = true }));
    }

    [Fact]
    public void A_dispatch_ships_a_sold_order_and_nothing_moves_a_shipped_one()
    {
        var sold = new OrderFacts(Created: true, Reserved: true, PaymentAuthorized: true, Sold: true, ShipRequested: true);
        Assert.Equal((OrderStatus.Shipped, (string?)null), OrderState.Next(OrderStatus.Confirmed, null, sold with { Dispatched = true }));
        // A dispatch seen before the sale waits for it.
        Assert.Equal(OrderStatus.Pending, OrderState.Derive(sold with { Sold = false, Dispatched = true }).Status);
        // A return after the goods left (which the gateway never lets happen) does not move it back.
        Assert.Equal((OrderStatus.Shipped, (string?)null),
            OrderState.Next(OrderStatus.Shipped, null, sold with { Dispatched = true, Returned = true, CancelRequested = true }));
    }

    [Fact]
    public void A_cancel_without_a_reason_shows_CANCELLED()
    {
        var facts = new OrderFacts(Created: true, ReleaseReason: FailureReasons.Cancelled, CancelRequested: true);
        Assert.Equal((OrderStatus.Cancelled, FailureReasons.Cancelled), OrderState.Derive(facts));
    }

    private static IEnumerable<string[]> Permutations(string[] items) =>
        items.Length <= 1 ? [items] : items.SelectMany((item, i) => Permutations([.. items[..i], .. items[(i + 1)..]]).Select(rest => (string[])[item, .. rest]));
}
