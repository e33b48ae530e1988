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
            ["Logging__LogLevel__OrderStream.Messaging.EventConsumer"] = "Information",
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
        var samples = new List<(TimeSpan At, long Accepted, Dictionary<string, (long Outbox, long Inbox)> Rows)>();
        var clock = Stopwatch.StartNew();
        output.WriteLine("  t      orders  gateway outbox  inventory outbox/inbox  payment outbox/inbox  materializer outbox/inbox");
        while (!load.Completion.IsCompleted)
        {
            var rows = new Dictionary<string, (long, long)>();
            foreach (var db in Dbs)
                rows[db] = (await stack.QueryOneAsync<long>(db, "SELECT count(*) FROM outbox"), await stack.QueryOneAsync<long>(db, "SELECT count(*) FROM inbox"));
            samples.Add((clock.Elapsed, load.Accepted.Count, rows));
            output.WriteLine($"  {clock.Elapsed:mm\\:ss}  {load.Accepted.Count,6}  {rows["gateway"].Item1,14}  {rows["inventory"].Item1,10}/{rows["inventory"].Item2,-11}  " +
                $"{rows["payment"].Item1,8}/{rows["payment"].Item2,-11}  {rows["materializer"].Item1,8}/{rows["materializer"].Item2}");
            try { await load.Completion.WaitAsync(TimeSpan.FromSeconds(30)); } catch (TimeoutException) { } // the sampling period
        }
        await load.Completion;

        // The plateau: from retention + a prune interval + a minute of slack on, the tables hold about
        // one retention period's rows; without pruning they would grow with every order.
        var warm = RetentionSoakStack.Retention + RetentionSoakStack.PruneEvery + TimeSpan.FromMinutes(1);
        var plateau = samples.Where(s => s.At >= warm).ToList();
        Assert.True(plateau.Count >= 3, $"only {plateau.Count} samples after warm-up");
        var first = plateau[0];
        foreach (var db in Dbs)
        foreach (var (table, pick) in new (string, Func<(long Outbox, long Inbox), long>)[] { ("outbox", r => r.Outbox), ("inbox", r => r.Inbox) })
        {
            if (db == "gateway" && table == "inbox") continue;
            var bound = (long)(1.5 * pick(first.Rows[db])) + 100;
            var worst = plateau.Max(s => pick(s.Rows[db]));
            output.WriteLine($"{db} {table}: {pick(first.Rows[db])} rows at {first.At:mm\\:ss}, at most {worst} after (bound {bound}), {pick(samples[^1].Rows[db])} at the end");
            Assert.True(worst <= bound, $"{db} {table} grew from {pick(first.Rows[db])} to {worst}: not bounded");
        }
        // Pruning really happened: far fewer rows than the events written.
        Assert.True(samples[^1].Rows["gateway"].Outbox < load.Accepted.Count / 2, "the gateway outbox kept most of its rows");

        await stack.WaitSettledAsync(load.Accepted, TimeSpan.FromMinutes(3));
        output.WriteLine($"{load.Accepted.Count} orders over {clock.Elapsed.TotalMinutes:0.0} min at {OrdersPerSecond}/s");
        await stack.CheckBooksAsync(output);
    }
}
