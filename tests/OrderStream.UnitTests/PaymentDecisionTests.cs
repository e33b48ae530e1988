using OrderStream.Payment.Domain;

namespace OrderStream.UnitTests;

public class PaymentDecisionTests
{
    [Fact]
    public void The_decline_trigger_always_declines()
    {
        var options = new PaymentOptions { DeclineRate = 0, DeclineUserPrefix = "decline" };
        Assert.True(PaymentDecision.ShouldDecline(Guid.CreateVersion7(), "decline-me", options));
        Assert.False(PaymentDecision.ShouldDecline(Guid.CreateVersion7(), "alice", options));
        Assert.False(PaymentDecision.ShouldDecline(Guid.CreateVersion7(), "decline-me", new PaymentOptions { DeclineUserPrefix = "" }));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    [InlineData(1.0)]
    public void The_decline_rate_holds_over_many_orders_and_each_order_decides_the_same_way_twice(double rate)
    {
        var options = new PaymentOptions { DeclineRate = rate, DeclineUserPrefix = "" };
        var ids = Enumerable.Range(0, 10_000).Select(_ => Guid.CreateVersion7()).ToList();
        var declined = ids.Count(id => PaymentDecision.ShouldDecline(id, "u", options));
        Assert.InRange(declined / 10_000.0, rate - 0.02, rate + 0.02);
        Assert.All(ids.Take(100), id => Assert.Equal(PaymentDecision.ShouldDecline(id, "u", options), PaymentDecision.ShouldDecline(id, "u", options)));
    }
}
