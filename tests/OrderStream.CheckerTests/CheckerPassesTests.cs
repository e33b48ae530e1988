using System.Text;
using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.CheckerTests;

/// <summary>A run with declines, plus two poison messages and one duplicated message, that the checker must find clean and account for.</summary>
public sealed class PassingRun : CheckedRun, IAsyncLifetime
{
    public Confluent.Kafka.ConsumeResult<byte[]?, byte[]?> Duplicated { get; private set; } = null!;

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        // Poison on two topics: each consuming group dead-letters its own copy (order.created: inventory
        // and the materializer; inventory.reserved: payment and the materializer).
        await Kafka.ProduceRawAsync(Topics.OrderCreated, Guid.NewGuid().ToString(), Encoding.UTF8.GetBytes("not json"), new() { [Headers.EventType] = Topics.OrderCreated });
        await Kafka.ProduceRawAsync(Topics.InventoryReserved, Guid.NewGuid().ToString(), [0xde, 0xad], new() { [Headers.EventType] = Topics.InventoryReserved });
        // A copy of a message already processed (as a relay that died before marking it sent would publish):
        // both consumers of order.created receive it and skip it.
        Duplicated = Kafka.ReadAll(Topics.OrderCreated).First(m => m.Message.Headers.Any(h => h.Key == Headers.EventId));
        await Kafka.ProduceRawAsync(Topics.OrderCreated, Encoding.UTF8.GetString(Duplicated.Message.Key!), Duplicated.Message.Value,
            Duplicated.Message.Headers.ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes())));
        await Checker.WaitUntilQuietAsync(TimeSpan.FromSeconds(60));
    }
}

public sealed class CheckerPassesTests(PassingRun run, ITestOutputHelper output) : IClassFixture<PassingRun>
{
    [Fact]
    public async Task A_quiet_run_with_declines_passes_every_check_with_the_counts_the_gateway_reported()
    {
        var report = await run.Checker.RunAsync();
        output.WriteLine(report.ToString());

        Assert.True(report.Passed, report.ToString());
        Assert.True(report.Quiet);
        Assert.True(report.KafkaChecked);
        Assert.DoesNotContain(report.Checks, c => c.Skipped);

        var views = run.Views;
        var confirmed = views.Where(v => v.Status == OrderStatus.Confirmed).ToList();
        var declined = views.Count(v => v.Reason == FailureReasons.PaymentDeclined);
        var outOfStock = views.Count(v => v.Reason == FailureReasons.OutOfStock);
        Assert.All([confirmed.Count, declined, outOfStock], n => Assert.True(n > 0, "the run has every outcome"));

        var t = report.Totals;
        Assert.Equal(views.Count, t.AcceptedOrders);
        Assert.Equal(confirmed.Count, t.Confirmed);
        Assert.Equal(views.Count - confirmed.Count, t.Failed);
        Assert.Equal(0, t.Pending);
        Assert.Equal(declined, t.Outcomes[$"{OrderStatus.Failed} {FailureReasons.PaymentDeclined}"]);
        Assert.Equal(outOfStock, t.Outcomes[$"{OrderStatus.Failed} {FailureReasons.OutOfStock}"]);
        Assert.Equal(confirmed.Count, t.PaymentsAuthorized);
        Assert.Equal(declined, t.PaymentsDeclined);
        Assert.Equal(confirmed.Count, t.ReservationsByStatus["SOLD"]);
        Assert.Equal(declined, t.ReservationsByStatus["RELEASED"]);
        Assert.Equal(CheckedRun.Skus.Length * CheckedRun.StockPerSku, t.StockReceived);
        Assert.Equal(confirmed.SelectMany(v => v.Items!).Sum(l => (long)l.Qty), t.Sold);
        Assert.Equal(views.Count, report.SettleTimes.Settled);

        Assert.Equal(views.Count, report.Outboxes.Single(o => o.Service == Catalogue.ApiGateway).Sent);
        Assert.All(report.Outboxes, o => Assert.Equal(0, o.Unsent));
    }

    [Fact]
    public async Task Every_dead_letter_is_listed_with_where_it_came_from_and_each_skipped_duplicate_is_counted()
    {
        var report = await run.Checker.RunAsync();
        output.WriteLine(report.ToString());

        Assert.Equal(4, report.DeadLetters.Count);
        Assert.All(report.DeadLetters, d => Assert.True(d.AccountedFor));
        Assert.Equal(
            [$"{Topics.InventoryReserved} by order-materializer", $"{Topics.InventoryReserved} by payment", "order.created.v1 by inventory", "order.created.v1 by order-materializer"],
            report.DeadLetters.Select(d => $"{d.OriginalTopic} by {d.ConsumerGroup}").Order(StringComparer.Ordinal));

        var consumers = report.Consumers.ToDictionary(c => c.Group);
        Assert.Equal(1, consumers["inventory"].SkippedDuplicates);
        Assert.Equal(1, consumers["order-materializer"].SkippedDuplicates);
        Assert.Equal(0, consumers["payment"].SkippedDuplicates);
        Assert.All(report.Consumers, c => Assert.Equal(0, c.Lag));
        Assert.Equal(2, consumers["order-materializer"].DeadLetters);

        // The messages on the topics the materializer consumes (Topics.OrderFacts): all the events it applied,
        // plus the 2 dead letters and the copy.
        var applied = report.Consumers.Single(c => c.Group == "order-materializer").InboxRows;
        Assert.Equal(report.Topics.Where(s => Topics.OrderFacts.Contains(s.Topic)).Sum(s => s.Messages), applied + 2 + 1);
    }

    [Fact]
    public async Task The_report_renders_as_text_and_json()
    {
        var report = await run.Checker.RunAsync();
        var text = report.ToString();
        Assert.Contains("PASSED", text);
        foreach (var check in report.Checks) Assert.Contains($"OK    {check.Name}", text);
        Assert.Contains("skipped duplicates", text);
        Assert.Contains("peak outbox depth is not observable", text);

        using var json = System.Text.Json.JsonDocument.Parse(report.ToJson());
        Assert.True(json.RootElement.GetProperty("passed").GetBoolean());
        Assert.Equal(report.Checks.Count, json.RootElement.GetProperty("checks").GetArrayLength());
        Assert.Equal(4, json.RootElement.GetProperty("deadLetters").GetArrayLength());
    }
}
