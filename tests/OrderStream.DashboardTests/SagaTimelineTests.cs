using OrderStream.Contracts;
using OrderStream.Dashboard.Components.Shared;

namespace OrderStream.DashboardTests;

public sealed class SagaTimelineTests : DashboardTestContext
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 12, 0, 0, TimeSpan.Zero);

    private static TimelineEntry At(string type, double ms) => new(type, Guid.NewGuid(), T0.AddMilliseconds(ms));

    [Fact]
    public void Each_entry_names_its_producer_from_the_topic_prefix_and_marks_compensations()
    {
        // Out of order on purpose: the timeline sorts by time.
        var cut = Ctx.Render<SagaTimeline>(p => p.Add(c => c.Timeline, new[]
        {
            At(Topics.InventoryReleased, 140),
            At(Topics.OrderCreated, 0),
            At(Topics.PaymentFailed, 95),
            At(Topics.InventoryReserved, 40),
        }));

        var rows = cut.FindAll("[data-testid=timeline-entry]");
        Assert.Equal(
            [
                (Topics.OrderCreated, "gateway", "false"),
                (Topics.InventoryReserved, "inventory", "false"),
                (Topics.PaymentFailed, "payment", "false"),
                (Topics.InventoryReleased, "inventory", "true"),
            ],
            rows.Select(r => (r.GetAttribute("data-type"), r.GetAttribute("data-service"), r.GetAttribute("data-compensation"))).ToList());
        Assert.Contains("compensation", rows[3].TextContent);
        Assert.DoesNotContain("compensation", rows[2].TextContent);
    }

    [Fact]
    public void Each_entry_shows_its_time_and_the_delay_after_the_previous_one()
    {
        var cut = Ctx.Render<SagaTimeline>(p => p.Add(c => c.Timeline, new[]
        {
            At(Topics.OrderCreated, 0), At(Topics.InventoryReserved, 42), At(Topics.PaymentAuthorized, 1_292), At(Topics.InventorySold, 1_300),
        }));

        var delays = cut.FindAll("[data-testid=timeline-delay]").Select(d => d.TextContent).ToList();
        Assert.Equal(["first event", "+42 ms after the previous event", "+1.25 s after the previous event", "+8 ms after the previous event"], delays);
        Assert.Equal("12:00:01.292 UTC", cut.FindAll("[data-testid=timeline-time]")[2].TextContent);
    }

    [Theory]
    [InlineData(Topics.InventoryReleased, true)]
    [InlineData(Topics.InventoryReturned, true)]
    [InlineData(Topics.PaymentVoided, true)]
    [InlineData(Topics.PaymentRefunded, true)]
    [InlineData(Topics.PaymentFailed, false)]
    [InlineData(Topics.InventoryFailed, false)]
    [InlineData(Topics.OrderCancelRequested, false)]
    public void Only_the_events_that_undo_a_step_are_compensations(string topic, bool compensation)
    {
        Assert.Equal(compensation, SagaEvents.IsCompensation(topic));
        Assert.Equal(topic.Split('.')[0] switch { "order" => "gateway", var s => s }, SagaEvents.Producer(topic));
    }
}
