using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

public sealed class ReplayTests(DecliningStack stack, ITestOutputHelper output) : IClassFixture<DecliningStack>
{
    /// <summary>Every consuming service of the catalogue: its group (its name), database and topics.</summary>
    private static readonly List<ServiceSpec> Consumers = [.. Catalogue.SagaServices.Where(s => s.IsConsumer)];

    [Fact]
    public async Task Receiving_every_event_of_a_finished_run_again_changes_nothing()
    {
        foreach (var sku in new[] { "R-1", "R-2", "R-3" }) await stack.SeedAsync(sku, 40);
        var random = new Random(7);
        var ids = await Concurrently.ForAllAsync(Enumerable.Range(0, 150), 16, i =>
            stack.PlaceAsync(Orders.Body($"replay-{i}", ($"R-{random.Next(1, 4)}", random.Next(1, 3), 4.00m))));
        // Settling is not what this test measures: on a loaded machine 150 orders on 3 SKUs can take tens of seconds.
        var settled = await Concurrently.ForAllAsync(ids, 16, id => stack.WaitSettledAsync(id, TimeSpan.FromSeconds(120)));
        // Half the confirmed orders shipped, so fulfilment's dispatches are replayed too (the others' sales wait for a request).
        var toShip = settled.Where(v => v.Status == OrderStatus.Confirmed).Select(v => v.OrderId).Where((_, i) => i % 2 == 0).ToList();
        Assert.NotEmpty(toShip);
        var shipped = await Concurrently.ForAllAsync(toShip, 8, async id => (await stack.ShipAsync(id)).StatusCode);
        Assert.All(shipped, status => Assert.Equal(System.Net.HttpStatusCode.Accepted, status));
        await Concurrently.ForAllAsync(toShip, 16, id => stack.WaitStatusAsync(id, OrderStatus.Shipped, TimeSpan.FromSeconds(120)));
        await WaitQuietAsync();
        var before = await SnapshotAsync();

        // The same consumer groups, restarted to read every partition from its beginning.
        var replaying = new Dictionary<string, string>
        {
            ["Kafka__ReplayFromStart"] = "true",
            ["Logging__LogLevel__OrderStream.Messaging.Consumer"] = "Debug",
        };
        var services = Consumers.Select(c => stack.ByKey[c.Key]).ToList();
        await Task.WhenAll(services.Select(s => s.StopAsync()));
        foreach (var s in services) await s.StartAsync(overrides: replaying);

        // Positive proof that every event came round again: each consumer skips all of its topics' messages as duplicates.
        foreach (var s in services)
        {
            var expected = Catalogue.ByName(s.Name).Consumes.Sum(stack.Kafka.MessageCount);
            output.WriteLine($"{s.Name}: {expected} messages to receive again");
            await Eventually.True(() => Task.FromResult(s.CountOutput("Duplicate event") >= expected), TimeSpan.FromSeconds(90),
                $"{s.Name} to receive all {expected} messages again");
        }
        await WaitQuietAsync();

        var after = await SnapshotAsync();
        Assert.Equal(before, after);
    }

    /// <summary>Quiet: every consumer has caught up with every topic and every outbox is drained.</summary>
    private async Task WaitQuietAsync()
    {
        await Eventually.True(async () =>
        {
            if (Consumers.Any(c => c.Consumes.Any(t => stack.Kafka.Lag(c.Name, t) > 0))) return false;
            foreach (var db in Catalogue.SagaServices.Select(s => s.Database!))
                if (await stack.QueryOneAsync<long>(db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") > 0) return false;
            return true;
        }, TimeSpan.FromSeconds(90), "every consumer to catch up and every outbox to drain");
    }

    private async Task<string> SnapshotAsync()
    {
        var parts = new List<string>();
        async Task Add(string db, string sql) => parts.Add($"{db}: {sql}\n" + string.Join('\n', await stack.QueryAsync<string>(db, sql)));
        await Add("inventory", "SELECT concat_ws('|', sku, available, reserved, sold) FROM stock ORDER BY sku");
        await Add("inventory", "SELECT concat_ws('|', order_id, sku, qty, status, updated_at) FROM reservations ORDER BY order_id, sku");
        await Add("inventory", "SELECT concat_ws('|', order_id, status, reason, reserved_at, updated_at) FROM inventory_orders ORDER BY order_id");
        await Add("payment", "SELECT concat_ws('|', order_id, payment_id, status, amount, reason, updated_at) FROM payments ORDER BY order_id");
        await Add("payment", "SELECT concat_ws('|', order_id, reason, closed_at) FROM closed_orders ORDER BY order_id");
        await Add("materializer", "SELECT concat_ws('|', order_id, status, reason, updated_at, settled_at) FROM order_view ORDER BY order_id");
        await Add("materializer", "SELECT concat_ws('|', order_id, event_id) FROM order_timeline ORDER BY order_id, event_id");
        await Add("fulfilment", "SELECT concat_ws('|', order_id, status, shipment_id, dispatched_at, updated_at) FROM shipments ORDER BY order_id");
        foreach (var service in Catalogue.SagaServices.OrderBy(s => s.IsConsumer))
        {
            await Add(service.Database!, "SELECT concat_ws('|', count(*), max(id)) FROM outbox");
            if (service.IsConsumer) await Add(service.Database!, "SELECT count(*)::text FROM inbox");
        }
        return string.Join("\n\n", parts);
    }
}
