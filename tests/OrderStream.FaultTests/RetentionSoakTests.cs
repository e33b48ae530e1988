using System.Diagnostics;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.FaultTests;

/// <summary>Every service with short retention: inbox and sent outbox rows kept 1 minute, pruned every 10 seconds.</summary>
public sealed class RetentionSoakStack : FaultStack
{
    public static readonly TimeSpan Retention = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan PruneEvery = TimeSpan.FromSeconds(10);

    protected override IReadOnlyDictionary<string, string> ExtraSettings(string service) =>
        new Dictionary<string, string>(base.ExtraSettings(service))
        {
            ["Retention__Inbox"] = Retention.ToString(),
            ["Retention__Outbox"] = Retention.ToString(),
            ["Retention__Interval"] = PruneEvery.ToString(),
            // A soak logs nothing per duplicate: none are expected, and the output is kept in memory.
            ["Logging__LogLevel__OrderStream.Messaging.Consumer"] = "Information",
        };
}

[CollectionDefinition(Name)]
public sealed class Soak
{
    public const string Name = "soak";
}

/// <summary>
/// Retention under a long run: steady load for ORDERSTREAM_SOAK_MINUTES (default 10) with short retention;
/// the inbox and outbox tables level off instead of growing with the number of orders. Its own collection,
/// so it runs beside the other fault tests rather than after them.
/// </summary>
[Collection(Soak.Name)]
public sealed class RetentionSoakTests(RetentionSoakStack stack, ITestOutputHelper output) : IClassFixture<RetentionSoakStack>
{
    private const double OrdersPerSecond = 4;

    private sealed record Table(long Rows, double OldestSeconds);

    private sealed record Sample(TimeSpan At, int Accepted, Dictionary<(string Db, string Table), Table> Tables);
    private static readonly string[] Dbs = ["gateway", "inventory", "payment", "materializer"];

    [Fact]
    public async Task Inbox_and_outbox_stay_bounded_under_a_soak_with_short_retention()
    {
        var minutes = int.TryParse(Environment.GetEnvironmentVariable("ORDERSTREAM_SOAK_MINUTES"), out var m) ? m : 10;
        Assert.True(minutes >= 4, "the soak needs a few minutes beyond the retention to show a plateau");
        var skus = Orders.Skus("SOAK", 10);
        await stack.SeedAsync(skus, 1_000_000);

        var count = (int)(minutes * 60 * OrdersPerSecond);
        await using var load = new OrderLoad([stack.Gateway.BaseAddress], count, OrdersPerSecond, skus, "soak");
        // Retention is enforced when, one prune interval (plus slack for a loaded machine) after the
        // retention, no row older than that is left: the tables then hold about one retention period's
        // rows, however long the run, instead of growing with every order (without pruning the oldest
        // row would be as old as the run, 10 minutes). The slack covers a stall of the whole machine:
        // CI once saw every service's oldest row 25-50 s late at the same moment while the other test
        // projects ran beside the soak.
        var oldestAllowed = RetentionSoakStack.Retention + RetentionSoakStack.PruneEvery + TimeSpan.FromSeconds(60);
        var samples = new List<Sample>();
        var clock = Stopwatch.StartNew();
        output.WriteLine("  t      orders  rows (oldest s): gateway outbox | inventory outbox, inbox | payment outbox, inbox | materializer outbox, inbox");
        while (!load.Completion.IsCompleted)
        {
            var sample = new Sample(clock.Elapsed, load.Accepted.Count, []);
            foreach (var db in Dbs)
            {
                sample.Tables[(db, "outbox")] = await stack.QueryOneAsync<Table>(db,
                    "SELECT count(*) AS Rows, COALESCE(EXTRACT(EPOCH FROM now() - min(sent_at)), 0)::float8 AS OldestSeconds FROM outbox");
                if (db != "gateway")
                    sample.Tables[(db, "inbox")] = await stack.QueryOneAsync<Table>(db,
                        "SELECT count(*) AS Rows, COALESCE(EXTRACT(EPOCH FROM now() - min(processed_at)), 0)::float8 AS OldestSeconds FROM inbox");
            }
            samples.Add(sample);
            output.WriteLine($"  {sample.At:mm\\:ss}  {sample.Accepted,6}  " + string.Join("  ", sample.Tables.Select(t => $"{t.Value.Rows} ({t.Value.OldestSeconds:0})")));
            try { await load.Completion.WaitAsync(TimeSpan.FromSeconds(30)); } catch (TimeoutException) { } // the sampling period
        }
        await load.Completion;

        var steady = samples.Where(s => s.At >= oldestAllowed + TimeSpan.FromSeconds(30)).ToList();
        Assert.True(steady.Count >= 3, $"only {steady.Count} samples after the first retention period");
        foreach (var ((db, table), _) in samples[^1].Tables)
        {
            var rows = steady.Select(s => s.Tables[(db, table)].Rows).ToList();
            var oldest = steady.Max(s => s.Tables[(db, table)].OldestSeconds);
            output.WriteLine($"{db} {table}: {rows.Min()}..{rows.Max()} rows after {steady[0].At:mm\\:ss}, oldest row {oldest:0} s (allowed {oldestAllowed.TotalSeconds:0} s), {rows[^1]} at the end");
            Assert.True(oldest <= oldestAllowed.TotalSeconds, $"{db} {table} kept a row {oldest:0} s old: retention of {RetentionSoakStack.Retention} not enforced");
        }

        // And the tables stay far below what was written: every event of the run is on a topic.
        var written = new Dictionary<(string, string), long>
        {
            [("gateway", "outbox")] = stack.Kafka.MessageCount(Contracts.Topics.OrderCreated),
            [("inventory", "outbox")] = new[] { Contracts.Topics.InventoryReserved, Contracts.Topics.InventoryFailed, Contracts.Topics.InventoryReleased, Contracts.Topics.InventorySold }.Sum(stack.Kafka.MessageCount),
            [("inventory", "inbox")] = new[] { Contracts.Topics.OrderCreated, Contracts.Topics.PaymentAuthorized, Contracts.Topics.PaymentFailed }.Sum(stack.Kafka.MessageCount),
            [("payment", "outbox")] = new[] { Contracts.Topics.PaymentAuthorized, Contracts.Topics.PaymentFailed }.Sum(stack.Kafka.MessageCount),
            [("payment", "inbox")] = stack.Kafka.MessageCount(Contracts.Topics.InventoryReserved),
            [("materializer", "inbox")] = Contracts.Topics.OrderFacts.Sum(stack.Kafka.MessageCount),
            [("materializer", "outbox")] = stack.Kafka.MessageCount(Contracts.Topics.OrderUpdated),
        };
        foreach (var ((db, table), total) in written)
        {
            var left = samples[^1].Tables[(db, table)].Rows;
            output.WriteLine($"{db} {table}: {total} rows written over the run, {left} left at the end");
            Assert.True(left < total / 2, $"{db} {table} kept {left} of {total} rows");
        }

        await stack.WaitSettledAsync(load.Accepted, TimeSpan.FromMinutes(3));
        output.WriteLine($"{load.Accepted.Count} orders over {clock.Elapsed.TotalMinutes:0.0} min at {OrdersPerSecond}/s");
        await stack.CheckBooksAsync(output);
    }
}
