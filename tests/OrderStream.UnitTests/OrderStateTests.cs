using OrderStream.Contracts;
using OrderStream.OrderMaterializer.Domain;

namespace OrderStream.UnitTests;

public class OrderStateTests
{
    private static readonly Dictionary<string, Func<OrderFacts, OrderFacts>> Events = new()
    {
        [Topics.OrderCreated] = f => f with { Created = true },
        [Topics.InventoryReserved] = f => f with { Reserved = true },
        [Topics.InventoryFailed] = f => f with { InventoryFailure = FailureReasons.OutOfStock },
        [Topics.PaymentAuthorized] = f => f with { PaymentAuthorized = true },
        [Topics.PaymentFailed] = f => f with { PaymentFailure = FailureReasons.PaymentDeclined },
        [Topics.InventoryReleased] = f => f with { Released = true },
    };

    public static TheoryData<string[], string, string?> Sagas => new()
    {
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentAuthorized], OrderStatus.Confirmed, null },
        { [Topics.OrderCreated, Topics.InventoryFailed], OrderStatus.Failed, FailureReasons.OutOfStock },
        { [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentFailed, Topics.InventoryReleased], OrderStatus.Failed, FailureReasons.PaymentDeclined },
        { [Topics.OrderCreated, Topics.InventoryReserved], OrderStatus.Pending, null },
    };

    [Theory]
    [MemberData(nameof(Sagas))]
    public void Every_arrival_order_of_a_sagas_events_gives_the_same_final_state(string[] events, string status, string? reason)
    {
        foreach (var order in Permutations(events))
        {
            var (current, currentReason, facts) = (OrderStatus.Pending, (string?)null, new OrderFacts());
            var seen = new List<string>();
            foreach (var evt in order)
            {
                facts = Events[evt](facts);
                var previous = current;
                (current, currentReason) = OrderState.Next(current, currentReason, facts);
                seen.Add(current);
                Assert.False(OrderStatus.IsTerminal(previous) && current != previous, $"status moved from {previous} to {current} in {string.Join(" > ", order)}");
            }
            Assert.Equal((status, reason), (current, currentReason));
        }
    }

    [Fact]
    public void Does_not_settle_before_the_order_itself_is_known()
    {
        var facts = new OrderFacts(Reserved: true, PaymentAuthorized: true);
        Assert.Equal(OrderStatus.Pending, OrderState.Derive(facts).Status);
        Assert.Equal(OrderStatus.Confirmed, OrderState.Derive(facts with { Created = true }).Status);
    }

    [Fact]
    public void A_terminal_status_wins_over_a_contradicting_event()
    {
        var facts = new OrderFacts(Created: true, Reserved: true, PaymentAuthorized: true, PaymentFailure: FailureReasons.PaymentDeclined);
        Assert.Equal((OrderStatus.Confirmed, (string?)null), OrderState.Next(OrderStatus.Confirmed, null, facts));
    }

    private static IEnumerable<string[]> Permutations(string[] items) =>
        items.Length <= 1 ? [items] : items.SelectMany((item, i) => Permutations([.. items[..i], .. items[(i + 1)..]]).Select(rest => (string[])[item, .. rest]));
}
