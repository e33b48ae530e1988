using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Dapper;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.FaultTests;

public sealed class RelayCrashStack : FaultStack;

/// <summary>
/// Issue 3, fault 3: a relay dies after Kafka accepted a message and before marking it sent. No test hook
/// in the relay: the test builds an outbox backlog (orders accepted while the broker is down), lets the
/// gateway's relay drain it, watches from outside for the moment the topic holds more messages than the
/// outbox has marked sent (exactly the window of this fault) and kill -9s the gateway then. It repeats
/// until a duplicate reached the topic, within a deadline.
/// </summary>
[Collection(Faults.Name)]
public sealed class RelayCrashTests(RelayCrashStack stack, ITestOutputHelper output) : IClassFixture<RelayCrashStack>
{
    private const string Topic = Topics.OrderCreated;

    [Fact]
    public async Task A_relay_killed_between_publish_and_marking_sent_publishes_a_duplicate_that_changes_nothing()
    {
        var skus = Orders.Skus("RC", 6);
        await stack.SeedAsync(skus, 1_000);
        using var probe = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = stack.Kafka.BootstrapServers, GroupId = "probe-" + Guid.NewGuid() }).Build();
        var accepted = new List<Guid>();
        var clock = Stopwatch.StartNew();
        var attempts = 0;
        long duplicates = 0;
        while (duplicates == 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromMinutes(5), $"no duplicate publish observed in {attempts} kill attempts");
            attempts++;
            // The outbox is drained here (before the first attempt, and after each one), so every row is sent and on the topic.
            var rowsBefore = await OutboxRowsAsync();
            var onTopicBefore = Watermark(probe);
            stack.Kafka.SetBrokerDown();
            await using (var load = new OrderLoad([stack.Gateway.BaseAddress], count: 150, perSecond: 150, skus, $"relay{attempts}", seed: attempts))
            {
                await load.Completion;
                accepted.AddRange(load.Accepted);
            }
            // A SHARE lock on the outbox lets the relay read and publish its backlog but not mark it sent, so
            // the window this fault needs stays open until the kill, however slow the probe is on a busy
            // machine (12 watermark round trips and a query; CI twice hit the window too late without it).
            // The relay knows nothing of it.
            await using var blocker = stack.Db("gateway");
            await blocker.OpenAsync();
            await using var holding = await blocker.BeginTransactionAsync();
            await blocker.ExecuteAsync("LOCK TABLE outbox IN SHARE MODE", transaction: holding);
            stack.Kafka.SetBrokerUp();

            // The window: Kafka holds messages that the outbox has not marked sent yet.
            var killedInWindow = false;
            var watch = Stopwatch.StartNew();
            while (watch.Elapsed < TimeSpan.FromSeconds(60))
            {
                var sent = await SentRowsAsync();
                long published;
                try { published = Watermark(probe) - onTopicBefore; }
                catch (KafkaException) { continue; } // the probe reconnecting to the broker that just came back
                if (published > sent - rowsBefore.Sent)
                {
                    await stack.Gateway.KillAsync();
                    killedInWindow = true;
                    break;
                }
                if (sent == (await OutboxRowsAsync()).Total) break; // drained before the probe saw the window
            }
            if (!killedInWindow) await stack.Gateway.KillAsync();
            await holding.RollbackAsync();
            await stack.RestartAsync(stack.Gateway);
            await Eventually.True(async () => (await stack.OutboxDepthsAsync("gateway"))["gateway"] == 0, TimeSpan.FromMinutes(2), "the gateway outbox to drain");
            duplicates = Watermark(probe) - (await OutboxRowsAsync()).Total;
            output.WriteLine($"attempt {attempts}: {(killedInWindow ? "killed inside the window" : "window missed, killed after")}; {duplicates} duplicate(s) of {Topic} on the topic");
        }

        // Read the topic itself: more messages than distinct event ids, and every id is one outbox row.
        var messages = stack.Kafka.ReadAll(Topic);
        var ids = messages.Select(m => Encoding.UTF8.GetString(m.Message.Headers.GetLastBytes(OrderStream.Contracts.Headers.EventId))).ToList();
        var outboxIds = (await stack.QueryAsync<Guid>("gateway", "SELECT event_id FROM outbox WHERE topic = @Topic", new { Topic })).Select(g => g.ToString()).ToHashSet();
        output.WriteLine($"{Topic}: {messages.Count} messages, {ids.Distinct().Count()} distinct event ids, {outboxIds.Count} outbox rows, {accepted.Count} orders accepted");
        Assert.True(messages.Count > ids.Distinct().Count(), "the topic holds a duplicate");
        Assert.Equal(outboxIds.Order(), ids.Distinct().Order());

        await stack.WaitSettledAsync(accepted, TimeSpan.FromMinutes(3));
        var report = await stack.CheckBooksAsync(output);
        var skipped = report.Consumers.Where(c => c.Topics.Contains(Topic)).Select(c => (c.Group, c.SkippedDuplicates)).ToList();
        output.WriteLine("copies skipped by the consumers of " + Topic + ": " + string.Join(", ", skipped.Select(s => $"{s.Group} {s.SkippedDuplicates}")));
        Assert.All(skipped, s => Assert.True(s.SkippedDuplicates >= duplicates, $"{s.Group} skipped {s.SkippedDuplicates} of {duplicates} copies"));
    }

    private long Watermark(IConsumer<Ignore, Ignore> probe) =>
        Enumerable.Range(0, KafkaTestCluster.Partitions).Sum(p => probe.QueryWatermarkOffsets(new TopicPartition(Topic, p), TimeSpan.FromSeconds(5)).High.Value);

    private async Task<long> SentRowsAsync()
    {
        await using var conn = stack.Db("gateway");
        return await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox WHERE topic = @Topic AND sent_at IS NOT NULL", new { Topic });
    }

    private async Task<(long Total, long Sent)> OutboxRowsAsync()
    {
        await using var conn = stack.Db("gateway");
        return await conn.QuerySingleAsync<(long, long)>("SELECT count(*), count(sent_at) FROM outbox WHERE topic = @Topic", new { Topic });
    }
}
