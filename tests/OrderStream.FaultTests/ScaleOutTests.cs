using System.Text;
using System.Text.Json;
using Dapper;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.FaultTests;

public sealed class ScaleOutStack : FaultStack;

/// <summary>
/// Issue 3, fault 7: two instances of each consuming service in one group (same database and group,
/// another port), instances added and killed during load, so partitions move while events flow.
/// </summary>
[Collection(Faults.Name)]
public sealed class ScaleOutTests(ScaleOutStack stack, ITestOutputHelper output) : IClassFixture<ScaleOutStack>
{
    [Fact]
    public async Task Instances_added_and_killed_during_load_apply_each_event_once_and_keep_each_orders_events_in_order()
    {
        var skus = Orders.Skus("S", 8);
        await stack.SeedAsync(skus, 500);
        var random = new Random(9);
        ServiceProcess[] first = [stack.Inventory, stack.Payment, stack.Materializer];
        var second = first.Select(s => s.Another()).ToArray();
        try
        {
            // Placing until the last step is done, so every step comes during load, however slow the machine.
            await using var load = new OrderLoad([stack.Gateway.BaseAddress], count: 2_000, perSecond: 7, skus, "scale");
            async Task Step(string what, Func<ServiceProcess, Task> action, IEnumerable<ServiceProcess> on)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(random.Next(2_000, 5_000))); // a random moment, not a synchronisation
                var inFlight = load.Accepted.Count - await stack.SettledCountAsync(load.Accepted);
                await Task.WhenAll(on.Select(action));
                output.WriteLine($"{what} with {inFlight} orders in flight ({load.Accepted.Count} accepted so far)");
            }
            await Step("second instances added", s => s.StartAsync(TimeSpan.FromSeconds(120)), second);
            await Step("first instances killed (-9)", s => s.KillAsync(), first);
            await Step("first instances restarted", stack.RestartAsync, first);
            await Step("second instances killed (-9)", s => s.KillAsync(), second);
            await Step("second instances restarted", stack.RestartAsync, second);
            load.StopPlacing();
            await load.Completion;
            var settled = await stack.WaitSettledAsync(load.Accepted, TimeSpan.FromMinutes(3));
            output.WriteLine($"{load.Accepted.Count} orders accepted; all settled {settled.TotalSeconds:0.0} s after the load ended");

            // Partitions moved: each instance was assigned partitions at some point. A restarted instance joins its group
            // only once the group has given up on the member it was before the kill (the session timeout), which on a
            // loaded machine can come after the last order settled: polled, not read once.
            foreach (var s in first.Concat(second))
            {
                await Eventually.True(() => Task.FromResult(s.CountOutput("Assigned ") > 0), TimeSpan.FromSeconds(90),
                    $"{s.Name} on :{s.Port} to be assigned partitions");
                output.WriteLine($"{s.Name} on :{s.Port}: {s.CountOutput("Assigned ")} assignment(s) since its last start, {stack.DuplicatesSkipped(s)} duplicates skipped");
            }
            await stack.CheckBooksAsync(output);
            await AssertEachOrdersEventsInOrderAsync(load.Accepted);
        }
        finally
        {
            foreach (var s in second) await s.DisposeAsync();
        }
    }

    /// <summary>
    /// Events of one order stay in order: the status of each order moved once, from PENDING to its final
    /// status (one order.updated per order, never a step back), and its timeline follows the saga's causal order.
    /// </summary>
    private async Task AssertEachOrdersEventsInOrderAsync(IReadOnlyCollection<Guid> orders)
    {
        var finals = (await stack.QueryAsync<(Guid, string)>("materializer", "SELECT order_id, status FROM order_view")).ToDictionary(v => v.Item1, v => v.Item2);
        var updates = stack.Kafka.ReadAll(Topics.OrderUpdated)
            .GroupBy(m => Encoding.UTF8.GetString(m.Message.Key!))
            .ToDictionary(g => Guid.Parse(g.Key), g => g.OrderBy(m => m.Offset.Value)
                .Select(m => JsonSerializer.Deserialize<Envelope>(m.Message.Value, EventJson.Options)!)
                .DistinctBy(e => e.EventId)
                .Select(e => e.Payload.Deserialize<OrderUpdatedV1>(EventJson.Options)!.Status)
                .ToList());
        foreach (var id in orders)
        {
            Assert.True(updates.TryGetValue(id, out var statuses), $"no order.updated for {id}");
            Assert.Equal([finals[id]], statuses);
        }

        await using var conn = stack.Db("materializer");
        var timelines = (await conn.QueryAsync<(Guid OrderId, string Type)>(
            "SELECT order_id, type FROM order_timeline WHERE order_id = ANY(@Ids) ORDER BY order_id, occurred_at", new { Ids = orders.ToArray() }))
            .GroupBy(t => t.OrderId);
        var checkedOrders = 0;
        foreach (var timeline in timelines)
        {
            var ranks = timeline.Select(t => Saga.Rank(t.Type)).ToList();
            Assert.True(ranks.SequenceEqual(ranks.Order()), $"order {timeline.Key}: timeline {string.Join(" → ", timeline.Select(t => t.Type))} is not in causal order");
            checkedOrders++;
        }
        Assert.Equal(orders.Count, checkedOrders);
        output.WriteLine($"{orders.Count} orders: one order.updated each, matching the final status; every timeline in causal order");
    }
}

public sealed class TwoRelayStack : FaultStack;

/// <summary>
/// Issue 3, fault 8: two relay instances for one outbox (two gateways on one database, two inventories on
/// one database). The outbox delivers at least once: every row reaches its topic; a copy only where a relay
/// counted a delivery it could not confirm (a client-side timeout after the broker appended it); the first
/// publications of an order's events follow outbox id order; the inboxes skip every copy, so the books balance.
/// Nothing here assumes a quiet machine: on a starved one the copies appear, and are accounted for.
/// </summary>
[Collection(Faults.Name)]
public sealed class TwoRelayTests(TwoRelayStack stack, ITestOutputHelper output) : IClassFixture<TwoRelayStack>
{
    [Fact]
    public async Task Two_relays_on_one_outbox_publish_each_row_at_least_once_copies_only_after_unconfirmed_deliveries_and_first_publications_in_outbox_order()
    {
        var skus = Orders.Skus("TR", 8);
        await stack.SeedAsync(skus, 500);
        await using var gateway2 = stack.Gateway.Another();
        await using var inventory2 = stack.Inventory.Another();
        await Task.WhenAll(gateway2.StartAsync(TimeSpan.FromSeconds(120)), inventory2.StartAsync(TimeSpan.FromSeconds(120)));

        await using var load = new OrderLoad([stack.Gateway.BaseAddress, gateway2.BaseAddress], count: 300, perSecond: 15, skus, "relays");
        await load.Completion;
        await stack.WaitSettledAsync(load.Accepted, TimeSpan.FromMinutes(3));
        await stack.CheckBooksAsync(output);

        foreach (var (db, relays) in new[] { ("gateway", new[] { stack.Gateway, gateway2 }), ("inventory", new[] { stack.Inventory, inventory2 }) })
        {
            var rows = await stack.QueryAsync<(long Id, Guid EventId, string Key)>(db, "SELECT id, event_id, msg_key FROM outbox");
            // Every topic this outbox writes to (inventory's includes its stock adjustments, keyed by SKU).
            var topics = await stack.QueryAsync<string>(db, "SELECT DISTINCT topic FROM outbox");
            var messages = topics.SelectMany(t => stack.Kafka.ReadAll(t)).Select(m => (
                EventId: Guid.Parse(Encoding.UTF8.GetString(m.Message.Headers.GetLastBytes(OrderStream.Contracts.Headers.EventId))),
                Time: m.Message.Timestamp.UnixTimestampMs)).ToList();
            long unconfirmed = 0;
            foreach (var relay in relays) unconfirmed += await UnconfirmedAsync(relay);

            // At least once: every row published, nothing published that no row holds.
            Assert.Equal(rows.Select(r => r.EventId).Order(), messages.Select(m => m.EventId).Distinct().Order());
            // Copies only where a relay could not confirm a delivery and published the row again.
            var copies = messages.Count - rows.Count;
            Assert.True(copies <= unconfirmed, $"{db}: {copies} copies, but the relays counted only {unconfirmed} unconfirmed deliveries");

            // Per order, the first publication of each event (the producer's timestamps) follows the outbox id order.
            var first = messages.GroupBy(m => m.EventId).ToDictionary(g => g.Key, g => g.Min(m => m.Time));
            var multi = 0;
            foreach (var order in rows.GroupBy(r => r.Key).Where(g => g.Count() > 1))
            {
                multi++;
                var times = order.OrderBy(r => r.Id).Select(r => first[r.EventId]).ToList();
                Assert.True(times.SequenceEqual(times.Order()), $"{db} order {order.Key}: events first published out of outbox order");
            }
            output.WriteLine($"{db}: two relays, {rows.Count} outbox rows, {messages.Count} messages on {string.Join(", ", topics)} " +
                $"({copies} copies, {unconfirmed} unconfirmed deliveries counted); {multi} orders with several events, first published in outbox order");
        }
    }

    /// <summary>The relay's count of rows it produced without a confirmed delivery (orderstream_outbox_unconfirmed_total on /metrics).</summary>
    private static async Task<long> UnconfirmedAsync(ServiceProcess service)
    {
        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        var text = await http.GetStringAsync("/metrics");
        var samples = text.Split('\n').Where(l => l.StartsWith("orderstream_outbox_unconfirmed_total", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(samples); // the counter starts at 0, so a missing series means the relay does not count
        // name{labels} value [timestamp]
        return (long)samples.Sum(l => double.Parse(l[(l.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
    }
}
