using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.Stack;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

/// <summary>
/// Inventory syncing two real mock vendor processes (deploy/OrderStream.MockVendor, over real sockets) every second,
/// as run.sh wires them: vendor-a's A100n feed VND-A-00n, vendor-b's B100n feed VND-B-00n. Each test works on SKUs of
/// its own and turns every chaos switch it set back off.
/// </summary>
public sealed class VendorSyncTests(VendorSyncTests.Stack stack, ITestOutputHelper output) : IClassFixture<VendorSyncTests.Stack>
{
    /// <summary>The saga services and both mock vendors; inventory syncs every second, with timeouts and a breaker to match.</summary>
    public sealed class Stack : OrderStreamStack
    {
        protected override IEnumerable<ServiceSpec> Mocks => Catalogue.Mocks;

        protected override IReadOnlyDictionary<string, string> ExtraSettings(string service) => service == Catalogue.Inventory.Name
            ? new Dictionary<string, string>
            {
                ["Vendors__Interval"] = "00:00:01",
                ["Vendors__Resilience__AttemptTimeout__Timeout"] = "00:00:01",
                ["Vendors__Resilience__TotalRequestTimeout__Timeout"] = "00:00:02.500",
                ["Vendors__Resilience__Retry__Delay"] = "00:00:00.100",
                ["Vendors__Resilience__CircuitBreaker__SamplingDuration"] = "00:00:02",
                ["Vendors__Resilience__CircuitBreaker__BreakDuration"] = "00:00:02",
            }
            : new Dictionary<string, string>();

        public ServiceProcess VendorA => ByKey[Catalogue.VendorA.Key];
        public ServiceProcess VendorB => ByKey[Catalogue.VendorB.Key];
    }

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private static readonly string[] Unhealthy = ["failing", "circuit-open"];

    public sealed record VendorStatus(string Name, string BaseUrl, string State, DateTimeOffset? LastSuccessAt, DateTimeOffset? LastAttemptAt, string? LastError,
        int ConsecutiveFailures, int Skus, int SkusSynced, long Shortfall, List<JsonElement> Items);

    [Fact]
    public async Task A_vendors_stock_change_is_applied_through_the_stock_ledger_and_shows_in_the_inventory()
    {
        await PriceVendorSkusAsync();
        await WaitStockAsync("VND-B-001", s => s.Available == DemoVendors.InitialQuantity);

        await SetVendorStockAsync(stack.VendorB, "B1001", 70);

        var stock = await WaitStockAsync("VND-B-001", s => s.Available == 70);
        Assert.Equal((70L, 0L, 0L, 70L), (stock.Available, stock.Reserved, stock.Sold, stock.Received));
        // Each change is a receipt of its own kind, with the signed difference, so available + reserved + sold = received.
        var receipts = await stack.QueryAsync<(long Quantity, string Kind)>("inventory",
            "SELECT quantity, kind FROM stock_receipts WHERE sku = @Sku ORDER BY id", new { Sku = "VND-B-001" });
        Assert.Equal([(DemoVendors.InitialQuantity, AdjustmentKinds.VendorSync), (-30L, AdjustmentKinds.VendorSync)], receipts);
        // ... and an inventory.adjusted.v1, keyed by the SKU, published from the outbox.
        var adjusted = await Eventually.Get(() => Task.FromResult(Adjustments("VND-B-001") is { Count: 2 } a ? a : null), Deadline, "two inventory.adjusted.v1 of VND-B-001");
        Assert.All(adjusted, a => Assert.Equal(AdjustmentKinds.VendorSync, a.GetProperty("kind").GetString()));
        Assert.Equal((-30L, 70L, 70L), (adjusted[1].GetProperty("quantity").GetInt64(), adjusted[1].GetProperty("available").GetInt64(), adjusted[1].GetProperty("received").GetInt64()));

        // A sync that finds the same figure writes nothing.
        var synced = (await VendorAsync("vendor-b")).LastSuccessAt;
        await Eventually.True(async () => (await VendorAsync("vendor-b")).LastSuccessAt > synced.GetValueOrDefault().AddSeconds(1), Deadline, "two more syncs of vendor-b");
        Assert.Equal(2, await stack.QueryOneAsync<long>("inventory", "SELECT count(*) FROM stock_receipts WHERE sku = @Sku", new { Sku = "VND-B-001" }));
    }

    [Fact]
    public async Task Orders_keep_settling_on_the_last_known_stock_while_a_vendor_is_down_and_its_next_good_sync_applies()
    {
        await PriceVendorSkusAsync();
        await SetVendorStockAsync(stack.VendorA, "A1001", 40);
        await WaitStockAsync("VND-A-001", s => s.Available == 40);
        var before = await Eventually.Get(async () => await VendorAsync("vendor-a") is { State: "healthy" } v ? v : null, Deadline, "vendor-a healthy");

        await ChaosAsync(stack.VendorA, new { down = true });
        VendorStatus down;
        try
        {
            down = await Eventually.Get(async () => await VendorAsync("vendor-a") is { } v && Unhealthy.Contains(v.State) ? v : null, Deadline, "vendor-a failing");
            output.WriteLine($"vendor-a while down: {down}");
            Assert.True(down.LastSuccessAt >= before.LastSuccessAt);

            // A small load on the vendor's SKU while it is down: 12 orders of 2 of the 40 last known.
            var ids = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => stack.PlaceAsync(Orders.Body($"vendor-down-{i}", ("VND-A-001", 2, 19.99m)))));
            var views = await Task.WhenAll(ids.Select(id => stack.WaitSettledAsync(id)));
            Assert.All(views, v => Assert.Equal(OrderStatus.Confirmed, v.Status));
            var during = await WaitStockAsync("VND-A-001", s => s.Reserved == 0);
            Assert.Equal((16L, 0L, 24L), (during.Available, during.Reserved, during.Sold));

            var still = await VendorAsync("vendor-a");
            Assert.Contains(still.State, Unhealthy);
            Assert.Equal(down.LastSuccessAt, still.LastSuccessAt); // its SKUs' stock is as of then
            Assert.True(still.ConsecutiveFailures >= 1, "failures in a row are counted");
            Assert.False(string.IsNullOrEmpty(still.LastError));

            // Meanwhile the vendor learns of our 24 sales (out of band) and sells 6 elsewhere: it can still supply 10.
            await SetVendorStockAsync(stack.VendorA, "A1001", 10);
        }
        finally
        {
            await ChaosAsync(stack.VendorA, new { down = false });
        }

        var after = await WaitStockAsync("VND-A-001", s => s.Available == 10);
        Assert.Equal((10L, 0L, 24L, 34L), (after.Available, after.Reserved, after.Sold, after.Received));
        var back = await Eventually.Get(async () => await VendorAsync("vendor-a") is { State: "healthy" } v ? v : null, Deadline, "vendor-a healthy again");
        Assert.True(back.LastSuccessAt > down.LastSuccessAt);
        Assert.Equal(0, back.ConsecutiveFailures);

        await AssertBooksBalanceAsync();
    }

    [Fact]
    public async Task A_vendor_reporting_less_than_is_reserved_takes_available_to_zero_and_the_reservations_stand()
    {
        await PriceVendorSkusAsync();
        await SetVendorStockAsync(stack.VendorA, "A1002", 10);
        await WaitStockAsync("VND-A-002", s => s.Available == 10);

        // Reservations held open: payment does not decide until resumed.
        Assert.Equal(HttpStatusCode.OK, (await stack.Admin.PostAsync("/admin/payment/consumer/pause", null)).StatusCode);
        Guid[] held;
        try
        {
            held = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => stack.PlaceAsync(Orders.Body($"vendor-short-{i}", ("VND-A-002", 2, 29.99m)))));
            await WaitStockAsync("VND-A-002", s => s.Reserved == 8);

            // The vendor can now supply only 5 of the 8 we reserved.
            await SetVendorStockAsync(stack.VendorA, "A1002", 5);
            var short_ = await WaitStockAsync("VND-A-002", s => s.Available == 0);
            Assert.Equal((0L, 8L, 0L, 8L), (short_.Available, short_.Reserved, short_.Sold, short_.Received));
            var vendor = await Eventually.Get(async () => await VendorAsync("vendor-a") is { Shortfall: 3 } v ? v : null, Deadline, "vendor-a's shortfall of 3");
            var item = vendor.Items.Single(i => i.GetProperty("sku").GetString() == "VND-A-002");
            Assert.Equal((5L, 0L, 8L, 3L), (item.GetProperty("quantity").GetInt64(), item.GetProperty("available").GetInt64(),
                item.GetProperty("reserved").GetInt64(), item.GetProperty("shortfall").GetInt64()));
            var metrics = await Eventually.Get(async () =>
                await Scrape.OfAsync(stack.Inventory) is var s && s.Sum("orderstream_vendor_shortfall", ("vendor", "vendor-a")) == 3 ? s : null, Deadline, "the shortfall metric");
            Assert.Equal(1, metrics.Sum("orderstream_vendor_up", ("vendor", "vendor-a")));
            Assert.Single(metrics.Of("orderstream_vendor_sync_age_seconds", ("vendor", "vendor-a")), a => a.Value < 30);
            Assert.Single(metrics.Of("orderstream_vendor_sync_failures_total", ("vendor", "vendor-b")));

            // Nothing more is sold on it: a new order finds nothing available.
            var late = await stack.PlaceAsync(Orders.Body("vendor-short-late", ("VND-A-002", 1, 29.99m)));
            var refused = await stack.WaitSettledAsync(late);
            Assert.Equal((OrderStatus.Failed, FailureReasons.OutOfStock), (refused.Status, refused.Reason));
        }
        finally
        {
            Assert.Equal(HttpStatusCode.OK, (await stack.Admin.PostAsync("/admin/payment/consumer/resume", null)).StatusCode);
        }

        // The reservations are honoured: every held order is sold.
        var views = await Task.WhenAll(held.Select(id => stack.WaitSettledAsync(id, TimeSpan.FromSeconds(60))));
        Assert.All(views, v => Assert.Equal(OrderStatus.Confirmed, v.Status));
        // The vendor hears of the 8 sold (it had 5: it is 3 short and reports 0); available stays at 0, never below.
        await SetVendorStockAsync(stack.VendorA, "A1002", 0);
        await Eventually.True(async () => (await VendorAsync("vendor-a")).Items.Single(i => i.GetProperty("sku").GetString() == "VND-A-002")
            .GetProperty("quantity").GetInt64() == 0, Deadline, "a sync of vendor-a's 0");
        var settled = await WaitStockAsync("VND-A-002", s => s.Reserved == 0);
        Assert.Equal((0L, 0L, 8L, 8L), (settled.Available, settled.Reserved, settled.Sold, settled.Received));
        Assert.Equal(0, await stack.QueryOneAsync<long>("inventory", "SELECT count(*) FROM stock WHERE available < 0 OR reserved < 0 OR sold < 0"));

        await AssertBooksBalanceAsync();
    }

    [Fact]
    public async Task A_slow_or_failing_vendor_does_not_delay_the_sagas()
    {
        await PriceVendorSkusAsync();
        await stack.SeedAsync("VS-1", 1_000);
        await WaitStockAsync("VND-B-002", s => s.Available > 0);

        var normal = await SettleTimesAsync("normal");
        // vendor-a answers after 10 s (each attempt times out after 1 s), vendor-b answers 500.
        await ChaosAsync(stack.VendorA, new { delayMs = 10_000 });
        await ChaosAsync(stack.VendorB, new { errorRate = 1.0 });
        try
        {
            await Eventually.True(async () => (await VendorsAsync()).All(v => Unhealthy.Contains(v.State)), Deadline, "both vendors failing");
            var slow = await SettleTimesAsync("vendors slow and failing");

            // Were the saga to wait on a vendor, every order would take at least the attempt timeout (1 s).
            Assert.True(Median(slow) <= Median(normal) * 3 + 0.3, $"median settle {Median(slow):0.000} s with the vendors misbehaving, {Median(normal):0.000} s without");
            Assert.True(slow.Max() <= normal.Max() * 3 + 1.0, $"slowest settle {slow.Max():0.000} s with the vendors misbehaving, {normal.Max():0.000} s without");
        }
        finally
        {
            await ChaosAsync(stack.VendorA, new { delayMs = 0 });
            await ChaosAsync(stack.VendorB, new { errorRate = 0.0 });
        }
        await Eventually.True(async () => (await VendorsAsync()).All(v => v.State == "healthy"), Deadline, "both vendors healthy again");
    }

    [Fact]
    public async Task Only_an_admin_may_see_the_vendors()
    {
        foreach (var url in new[] { new Uri(stack.Inventory.BaseAddress, "/admin/inventory/vendors"), new Uri(stack.Gateway.BaseAddress, "/admin/inventory/vendors") })
        {
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(url)).StatusCode);
            foreach (var (token, status) in new[] { (TestIdentity.Customer("vendor-peeker"), HttpStatusCode.Forbidden), (TestIdentity.Seller(), HttpStatusCode.Forbidden), (TestIdentity.Admin(), HttpStatusCode.OK) })
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Authorization = new("Bearer", token);
                using var response = await http.SendAsync(request);
                Assert.Equal(status, response.StatusCode);
                if (status != HttpStatusCode.OK) Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            }
        }
        var vendors = await VendorsAsync();
        Assert.Equal(["vendor-a", "vendor-b"], vendors.Select(v => v.Name));
        Assert.All(vendors, v => Assert.Equal(DemoVendors.ItemsPerVendor, v.Skus));
        Assert.Equal(stack.VendorA.BaseAddress.ToString().TrimEnd('/'), vendors[0].BaseUrl);
    }

    private async Task<List<double>> SettleTimesAsync(string what)
    {
        var times = new List<double>();
        for (var i = 0; i < 15; i++)
        {
            var sku = i % 3 == 2 ? "VND-B-002" : "VS-1";
            var view = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body($"vendor-slow-{i}", (sku, 1, 1m))));
            Assert.Equal(OrderStatus.Confirmed, view.Status);
            times.Add((view.SettledAt!.Value - view.CreatedAt!.Value).TotalSeconds);
        }
        output.WriteLine($"{what}: settle times (s) {string.Join(" ", times.Select(t => t.ToString("0.000")))}");
        return times;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private async Task AssertBooksBalanceAsync()
    {
        var report = await new OrderStreamChecker(stack.CheckOptions).RunWhenQuietAsync(TimeSpan.FromSeconds(60));
        output.WriteLine(report.ToString());
        Assert.True(report.Passed, report.ToString());
    }

    private async Task PriceVendorSkusAsync()
    {
        using var inventory = stack.Client(TestIdentity.Seller(), stack.Inventory);
        foreach (var item in Catalogue.Mocks.SelectMany(DemoVendors.Of))
            await OrderStreamStack.PriceAsync(inventory, item.Sku, item.UnitPrice);
    }

    private static async Task SetVendorStockAsync(ServiceProcess vendor, string vendorSku, long quantity)
    {
        using var http = new HttpClient { BaseAddress = vendor.BaseAddress };
        (await http.PutAsJsonAsync($"/stock/{vendorSku}", new { quantity })).EnsureSuccessStatusCode();
    }

    private static async Task ChaosAsync(ServiceProcess vendor, object switches)
    {
        using var http = new HttpClient { BaseAddress = vendor.BaseAddress };
        (await http.PutAsJsonAsync("/chaos", switches)).EnsureSuccessStatusCode();
    }

    private Task<Orders.Stock> WaitStockAsync(string sku, Func<Orders.Stock, bool> holds) =>
        Eventually.Get(async () =>
        {
            var response = await stack.Seller.GetAsync($"/inventory/{sku}");
            return response.IsSuccessStatusCode && await response.Content.ReadFromJsonAsync<Orders.Stock>() is { } s && holds(s) ? s : null;
        }, Deadline, $"the stock of {sku}", TimeSpan.FromMilliseconds(100));

    private async Task<List<VendorStatus>> VendorsAsync() => (await stack.Admin.GetFromJsonAsync<List<VendorStatus>>("/admin/inventory/vendors"))!;

    private async Task<VendorStatus> VendorAsync(string name) => (await VendorsAsync()).Single(v => v.Name == name);

    /// <summary>The payloads of the inventory.adjusted.v1 messages keyed by <paramref name="sku"/>, in order.</summary>
    private List<JsonElement> Adjustments(string sku) =>
        [.. stack.Kafka.ReadAll(Topics.InventoryAdjusted)
            .Where(m => m.Message.Key is { } key && Encoding.UTF8.GetString(key) == sku)
            .Select(m => JsonDocument.Parse(m.Message.Value!).RootElement.GetProperty("payload"))];
}
