using Dapper;
using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.FaultTests;

/// <summary>
/// The whole system for one fault test class (its own databases, Redis and Kafka), with 20% of payments
/// declined so compensation runs too, and the consumers logging each duplicate they skip (Debug), so a
/// test can count the redeliveries its fault caused.
/// </summary>
public class FaultStack : OrderStreamStack
{
    public const string DuplicateLine = "Duplicate event";
    private readonly Dictionary<ServiceProcess, int> _earlierDuplicates = [];

    protected override IReadOnlyDictionary<string, string> ExtraSettings(string service)
    {
        var settings = new Dictionary<string, string> { ["Logging__LogLevel__OrderStream.Messaging.Consumer"] = "Debug" };
        if (service == "payment") settings["Payment__DeclineRate"] = "0.2";
        return settings;
    }

    public OrderStreamChecker Checker => new(CheckOptions);

    public ServiceProcess this[string service] => Services.Single(s => s.Name == service);

    /// <summary>Starts a killed or stopped service again, keeping count of the duplicates its earlier runs skipped.</summary>
    public async Task RestartAsync(ServiceProcess service)
    {
        lock (_earlierDuplicates) _earlierDuplicates[service] = DuplicatesSkipped(service);
        await service.StartAsync(TimeSpan.FromSeconds(120));
    }

    /// <summary>Events this process received again and skipped (inbox hit), over all its runs since the test began.</summary>
    public int DuplicatesSkipped(ServiceProcess service)
    {
        lock (_earlierDuplicates) return _earlierDuplicates.GetValueOrDefault(service) + service.CountOutput(DuplicateLine);
    }

    public async Task SeedAsync(IEnumerable<string> skus, long quantity)
    {
        foreach (var sku in skus) await SeedAsync(sku, quantity);
    }

    /// <summary>How many of <paramref name="ids"/> have a final status in the materializer's view.</summary>
    public async Task<int> SettledCountAsync(IReadOnlyCollection<Guid> ids)
    {
        if (ids.Count == 0) return 0;
        await using var conn = Db("materializer");
        return await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM order_view WHERE order_id = ANY(@Ids) AND status <> 'PENDING'", new { Ids = ids.ToArray() });
    }

    /// <summary>Waits until every order of <paramref name="ids"/> has settled; returns how long that took.</summary>
    public async Task<TimeSpan> WaitSettledAsync(IReadOnlyCollection<Guid> ids, TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.Get<object>(async () => await SettledCountAsync(ids) == ids.Count ? true : null, timeout, $"{ids.Count} orders to settle", TimeSpan.FromMilliseconds(200));
        return clock.Elapsed;
    }

    /// <summary>Unsent outbox rows per service database.</summary>
    public async Task<Dictionary<string, long>> OutboxDepthsAsync(params string[] dbs)
    {
        var depths = new Dictionary<string, long>();
        foreach (var db in dbs.Length == 0 ? Databases.Keys.ToArray() : dbs)
            depths[db] = await QueryOneAsync<long>(db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL");
        return depths;
    }

    /// <summary>Waits until the system is quiet, runs the checker, and fails the test with the report unless it passed.</summary>
    public async Task<CheckReport> CheckBooksAsync(Xunit.Abstractions.ITestOutputHelper output, TimeSpan? quietTimeout = null)
    {
        var checker = Checker;
        await checker.WaitUntilQuietAsync(quietTimeout ?? TimeSpan.FromSeconds(120));
        var report = await checker.RunAsync();
        output.WriteLine(report.ToString());
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(0, report.Totals.Pending);
        return report;
    }
}

/// <summary>Saga order bodies on a set of SKUs.</summary>
public static class Orders
{
    public static object Body(Random random, string userId, IReadOnlyList<string> skus) => new
    {
        userId,
        currency = "EUR",
        items = Enumerable.Range(0, random.Next(1, 3)).Select(_ => new { sku = skus[random.Next(skus.Count)], qty = random.Next(1, 3), price = 5.00m }).ToList(),
    };

    public static string[] Skus(string prefix, int count) => [.. Enumerable.Range(1, count).Select(i => $"{prefix}-{i}")];
}

/// <summary>Causal rank of each saga event in one order's life: a later step never happens before an earlier one.</summary>
public static class Saga
{
    public static int Rank(string type) => type switch
    {
        Topics.OrderCreated => 0,
        Topics.InventoryReserved or Topics.InventoryFailed => 1,
        Topics.PaymentAuthorized or Topics.PaymentFailed => 2,
        // Inventory decides the outcome after the payment result: a sale, or a release.
        Topics.InventorySold or Topics.InventoryReleased => 3,
        // Compensation of a payment made after a release (the deadline), or of a returned sale.
        Topics.PaymentVoided or Topics.InventoryReturned => 4,
        Topics.PaymentRefunded => 5,
        // A seller ships a confirmed order (after its sale), and fulfilment dispatches it after the request.
        Topics.OrderShipRequested => 4,
        Topics.ShipmentDispatched => 5,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a saga event"),
    };
}
