using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

public sealed class DecliningStack : OrderStreamStack
{
    protected override IReadOnlyDictionary<string, string> ExtraSettings(string service) =>
        service == "payment" ? new Dictionary<string, string> { ["Payment__DeclineRate"] = "0.3" } : new Dictionary<string, string>();
}

public sealed class SagaTests(DecliningStack stack, ITestOutputHelper output) : IClassFixture<DecliningStack>
{
    private const int OrderCount = 1000;
    private const int Skus = 10;
    private const int StockPerSku = 100;

    [Fact]
    public async Task A_thousand_concurrent_orders_all_settle_and_every_sku_balances()
    {
        var skus = Enumerable.Range(1, Skus).Select(i => $"SKU-{i:000}").ToArray();
        foreach (var sku in skus) await stack.SeedAsync(sku, StockPerSku);

        // ~2 units per line and 1-2 lines per order: demand is several times the stock, so some orders run out.
        var random = new Random(42);
        var bodies = Enumerable.Range(0, OrderCount).Select(i => Orders.Body($"user-{i % 50}",
            Enumerable.Range(0, random.Next(1, 3)).Select(_ => (skus[random.Next(Skus)], random.Next(1, 4), 2.50m)).ToArray())).ToList();

        var ids = await Concurrently.ForAllAsync(bodies, 32, stack.PlaceAsync);
        Assert.Equal(OrderCount, ids.Distinct().Count());

        var views = await Concurrently.ForAllAsync(ids, 32, id => stack.WaitSettledAsync(id, TimeSpan.FromSeconds(120)));
        var outcomes = views.GroupBy(v => $"{v.Status} {v.Reason}").ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine(string.Join(", ", outcomes.Select(o => $"{o.Key}: {o.Value}")));

        Assert.All(views, v => Assert.True(OrderStatus.IsTerminal(v.Status)));
        Assert.True(outcomes.GetValueOrDefault("CONFIRMED ") > 0, "some orders confirm");
        Assert.True(outcomes.GetValueOrDefault($"FAILED {FailureReasons.OutOfStock}") > 0, "some orders run out of stock");
        var declined = outcomes.GetValueOrDefault($"FAILED {FailureReasons.PaymentDeclined}");
        var reachedPayment = declined + outcomes.GetValueOrDefault("CONFIRMED ");
        Assert.InRange(declined / (double)reachedPayment, 0.2, 0.4);

        // Compensation finishes after the order settles, so the books are checked once the system is quiet.
        var stock = await Eventually.Get(async () =>
        {
            var s = await stack.InventoryAsync();
            return s.All(x => x.Reserved == 0) ? s : null;
        }, TimeSpan.FromSeconds(60), "every reservation to be sold or released");

        var soldByConfirmed = views.Where(v => v.Status == OrderStatus.Confirmed).SelectMany(v => v.Items!)
            .GroupBy(l => l.Sku).ToDictionary(g => g.Key, g => (long)g.Sum(l => l.Qty));
        foreach (var s in stock)
        {
            output.WriteLine($"{s.Sku}: available {s.Available} reserved {s.Reserved} sold {s.Sold} received {s.Received}");
            Assert.Equal(StockPerSku, s.Received);
            Assert.Equal(s.Received, s.Available + s.Reserved + s.Sold);
            Assert.Equal(soldByConfirmed.GetValueOrDefault(s.Sku), s.Sold);
        }

        await AssertEachEventAppliedOnceAsync(views);

        var report = await new OrderStreamChecker(stack.CheckOptions).RunWhenQuietAsync(TimeSpan.FromSeconds(60));
        output.WriteLine(report.ToString());
        Assert.True(report.Passed, report.ToString());
    }

    // Inventory's decision topics (the current inventory.reserved version), as the outbox names them.
    private static readonly object Decisions = new { Reserved = Topics.InventoryReserved, Failed = Topics.InventoryFailed };

    private async Task AssertEachEventAppliedOnceAsync(OrderView[] views)
    {
        // One inventory decision and at most one payment decision per order, each emitted once.
        Assert.Empty(await stack.QueryAsync<Guid>("inventory",
            "SELECT msg_key::uuid FROM outbox WHERE topic IN (@Reserved, @Failed) GROUP BY msg_key HAVING count(*) > 1", Decisions));
        Assert.Equal(views.Length, await stack.QueryOneAsync<long>("inventory",
            "SELECT count(DISTINCT msg_key) FROM outbox WHERE topic IN (@Reserved, @Failed)", Decisions));
        Assert.Empty(await stack.QueryAsync<Guid>("payment", "SELECT msg_key::uuid FROM outbox GROUP BY msg_key HAVING count(*) > 1"));

        var confirmed = views.Count(v => v.Status == OrderStatus.Confirmed);
        var declined = views.Count(v => v.Reason == FailureReasons.PaymentDeclined);
        Assert.Equal(confirmed, await stack.QueryOneAsync<long>("payment", "SELECT count(*) FROM payments WHERE status = 'AUTHORIZED'"));
        Assert.Equal(declined, await stack.QueryOneAsync<long>("payment", "SELECT count(*) FROM payments WHERE status = 'DECLINED'"));
        Assert.Equal(declined, await stack.QueryOneAsync<long>("inventory", "SELECT count(*) FROM outbox WHERE topic = 'inventory.released.v1'"));

        // The materializer recorded each event once: no order shows one event type twice.
        Assert.Empty(await stack.QueryAsync<Guid>("materializer",
            "SELECT order_id FROM order_timeline GROUP BY order_id, type HAVING count(*) > 1"));
        Assert.Equal(views.Length, await stack.QueryOneAsync<long>("materializer", "SELECT count(*) FROM order_view WHERE status <> 'PENDING'"));
    }
}
