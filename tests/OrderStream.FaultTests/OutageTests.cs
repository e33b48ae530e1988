using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.FaultTests;

public sealed class BrokerOutageStack : FaultStack;

/// <summary>Issue 3, fault 4: the broker is down for a while with sagas in flight.</summary>
[Collection(Faults.Name)]
public sealed class BrokerOutageTests(BrokerOutageStack stack, ITestOutputHelper output) : IClassFixture<BrokerOutageStack>
{
    private static readonly string[] Outboxes = ["gateway", "inventory", "payment", "materializer"];

    [Fact]
    public async Task With_the_broker_down_orders_are_still_accepted_and_every_saga_finishes_once_it_is_back()
    {
        var skus = Orders.Skus("B", 8);
        await stack.SeedAsync(skus, 500);
        await using var load = new OrderLoad([stack.Gateway.BaseAddress], count: 250, perSecond: 12, skus, "broker");
        await Eventually.True(() => Task.FromResult(load.Accepted.Count >= 50), TimeSpan.FromSeconds(60), "the first 50 orders");

        var inFlight = load.Accepted.Count - await stack.SettledCountAsync(load.Accepted);
        stack.Kafka.SetBrokerDown();
        var outage = Stopwatch.StartNew();
        var peak = Outboxes.ToDictionary(o => o, _ => 0L);
        async Task SampleAsync()
        {
            foreach (var (db, depth) in await stack.OutboxDepthsAsync(Outboxes)) peak[db] = Math.Max(peak[db], depth);
        }
        // The broker stays down for the rest of the load (about 20 s): every order of that time waits in the gateway's outbox.
        while (!load.Completion.IsCompleted)
        {
            await SampleAsync();
            await Task.Delay(250); // sampling period
        }
        await load.Completion;
        var downFor = outage.Elapsed;
        var waiting = load.Accepted.Count - await stack.SettledCountAsync(load.Accepted);
        stack.Kafka.SetBrokerUp();
        var drain = Stopwatch.StartNew();
        TimeSpan? drained = null;
        await Eventually.True(async () =>
        {
            await SampleAsync();
            var depths = await stack.OutboxDepthsAsync(Outboxes);
            if (drained is null && depths.Values.All(d => d == 0)) drained = drain.Elapsed;
            return drained is not null && await stack.SettledCountAsync(load.Accepted) == load.Accepted.Count;
        }, TimeSpan.FromMinutes(3), "the outboxes to drain and every saga to finish");
        var settled = drain.Elapsed;

        output.WriteLine($"broker down {downFor.TotalSeconds:0.0} s; {inFlight} sagas in flight when it went down, {waiting} unsettled when it came back; {load.Accepted.Count} orders accepted, " +
            $"{load.Retries} POSTs failed, slowest 202 {load.SlowestAccept.TotalMilliseconds:0} ms");
        output.WriteLine("peak outbox depth: " + string.Join(", ", peak.Select(p => $"{p.Key} {p.Value}")));
        output.WriteLine($"after the broker came back: outboxes drained in {drained!.Value.TotalSeconds:0.0} s, every saga settled in {settled.TotalSeconds:0.0} s");

        Assert.Equal(250, load.Accepted.Count);
        Assert.Equal(0, load.Retries);
        Assert.True(peak["gateway"] > 50, $"the gateway's outbox held the events of the outage (peak {peak["gateway"]})");
        await stack.CheckBooksAsync(output);
    }
}

/// <summary>The gateway's and inventory's databases on PostgreSQL clusters of their own, which the tests stop and start.</summary>
public sealed class DatabaseOutageStack : FaultStack
{
    public PostgresServer GatewayPostgres { get; } = PostgresServer.StartNew();
    public PostgresServer InventoryPostgres { get; } = PostgresServer.StartNew();

    protected override PostgresServer ServerFor(string db) => db switch
    {
        "gateway" => GatewayPostgres,
        "inventory" => InventoryPostgres,
        _ => base.ServerFor(db),
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        GatewayPostgres.Dispose();
        InventoryPostgres.Dispose();
    }
}

/// <summary>Issue 3, fault 5: one service's PostgreSQL is stopped and started during load.</summary>
[Collection(Faults.Name)]
public sealed class DatabaseOutageTests(DatabaseOutageStack stack, ITestOutputHelper output) : IClassFixture<DatabaseOutageStack>
{
    private static readonly TimeSpan FailFast = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task With_inventorys_database_down_its_requests_fail_fast_with_503_and_its_consumer_waits_and_loses_nothing()
    {
        var skus = Orders.Skus("DBI", 6);
        await stack.SeedAsync(skus, 500);
        using var inventory = new HttpClient { BaseAddress = stack.Inventory.BaseAddress, Timeout = TimeSpan.FromSeconds(30) }.WithToken(TestIdentity.Seller());
        await using var load = new OrderLoad([stack.Gateway.BaseAddress], count: 200, perSecond: 8, skus, "dbi");
        await Eventually.True(() => Task.FromResult(load.Accepted.Count >= 40), TimeSpan.FromSeconds(60), "the first 40 orders");

        var retriesBefore = stack.Inventory.CountOutput("Handling failed");
        stack.InventoryPostgres.Stop();
        var outage = Stopwatch.StartNew();
        var probes = new List<TimeSpan>();
        while (outage.Elapsed < TimeSpan.FromSeconds(15))
        {
            var clock = Stopwatch.StartNew();
            using var response = await inventory.GetAsync($"/inventory/{skus[0]}");
            probes.Add(clock.Elapsed);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(response.Headers.RetryAfter is not null, "503 carries Retry-After");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            await Task.Delay(1_000); // probing period
        }
        var retries = stack.Inventory.CountOutput("Handling failed") - retriesBefore;
        stack.InventoryPostgres.Start();
        var back = Stopwatch.StartNew();

        await load.Completion;
        var settled = await stack.WaitSettledAsync(load.Accepted, TimeSpan.FromMinutes(3));
        output.WriteLine($"inventory's PostgreSQL down {outage.Elapsed.TotalSeconds:0.0} s during a load of {load.Accepted.Count} orders ({load.Retries} POSTs failed)");
        output.WriteLine($"GET /inventory/{{sku}} while down: {probes.Count} x 503 + Retry-After, slowest {probes.Max().TotalMilliseconds:0} ms");
        output.WriteLine($"inventory's consumer retried {retries} times with backoff while down; every order settled {settled.TotalSeconds:0.0} s after the database was back ({back.Elapsed.TotalSeconds:0.0} s)");

        Assert.All(probes, p => Assert.True(p < FailFast, $"a 503 took {p.TotalMilliseconds:0} ms"));
        Assert.Equal(0, load.Retries); // the gateway does not need inventory's database to accept orders
        // Backoff, not a spin: capped exponential delays mean a handful of attempts per partition over the outage.
        Assert.InRange(retries, 1, 400);
        await stack.CheckBooksAsync(output);
    }

    [Fact]
    public async Task With_the_gateways_database_down_POST_fails_fast_with_503_and_every_accepted_order_settles()
    {
        var skus = Orders.Skus("DBG", 6);
        await stack.SeedAsync(skus, 500);
        await using var load = new OrderLoad([stack.Gateway.BaseAddress], count: 200, perSecond: 8, skus, "dbg");
        await Eventually.True(() => Task.FromResult(load.Accepted.Count >= 40), TimeSpan.FromSeconds(60), "the first 40 orders");
        var acceptedBefore = load.Accepted;

        stack.GatewayPostgres.Stop();
        var outage = Stopwatch.StartNew();
        var probes = new List<TimeSpan>();
        var i = 0;
        while (outage.Elapsed < TimeSpan.FromSeconds(12))
        {
            var clock = Stopwatch.StartNew();
            using var response = await stack.Http.PostAsJsonAsync("/orders", Orders.Body(new Random(i), $"probe-{i++}", skus));
            probes.Add(clock.Elapsed);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.True(response.Headers.RetryAfter is not null, "503 carries Retry-After");
            await Task.Delay(1_000); // probing period
        }
        stack.GatewayPostgres.Start();
        var back = Stopwatch.StartNew();

        await load.Completion;
        var settled = await stack.WaitSettledAsync(load.Accepted, TimeSpan.FromMinutes(3));
        output.WriteLine($"gateway's PostgreSQL down {outage.Elapsed.TotalSeconds:0.0} s with {acceptedBefore.Count} orders accepted before; " +
            $"POST /orders while down: {probes.Count} x 503 + Retry-After, slowest {probes.Max().TotalMilliseconds:0} ms; " +
            $"the load's client retried {load.Retries} POSTs and got all {load.Accepted.Count} accepted");
        output.WriteLine($"every order settled {settled.TotalSeconds:0.0} s after the database was back ({back.Elapsed.TotalSeconds:0.0} s)");

        Assert.All(probes, p => Assert.True(p < FailFast, $"a 503 took {p.TotalMilliseconds:0} ms"));
        Assert.True(load.Retries > 0, "the load's POSTs during the outage were refused");
        Assert.Equal(200, load.Accepted.Count);
        Assert.Subset(load.Accepted.ToHashSet(), acceptedBefore.ToHashSet());
        await stack.CheckBooksAsync(output);
    }
}
