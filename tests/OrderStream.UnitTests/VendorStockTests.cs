using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrderStream.Inventory.Domain;
using OrderStream.Inventory.Http;
using Polly.CircuitBreaker;

namespace OrderStream.UnitTests;

/// <summary>The rule of a vendor-fed SKU: available := max(0, Q − reserved), nothing reserved or sold taken back.</summary>
public class VendorStockTests
{
    [Theory]
    [InlineData(40, 40, 0, 40, 0, 0)]     // nothing changed
    [InlineData(70, 40, 0, 70, 30, 0)]    // the vendor has more
    [InlineData(25, 40, 0, 25, -15, 0)]   // the vendor has less
    [InlineData(40, 32, 8, 32, 0, 0)]     // reservations come out of what the vendor can supply
    [InlineData(10, 32, 8, 2, -30, 0)]
    [InlineData(5, 2, 8, 0, -2, 3)]       // below what is reserved: available 0, the reservations stand, 3 short
    [InlineData(0, 0, 8, 0, 0, 8)]
    [InlineData(0, 0, 0, 0, 0, 0)]
    public void Available_becomes_the_vendors_quantity_less_what_is_reserved_and_never_below_zero(
        long vendorQuantity, long available, long reserved, long expectedAvailable, long expectedDelta, long expectedShortfall)
    {
        var decision = VendorStock.Decide(vendorQuantity, available, reserved);
        Assert.Equal(new VendorStock.Decision(expectedAvailable, expectedDelta, expectedShortfall), decision);
        Assert.Equal(expectedAvailable, available + decision.Delta);
    }

    [Fact]
    public void A_sale_is_never_taken_back_because_sold_units_are_not_part_of_the_rule()
    {
        // Sold units have left; the vendor's Q already excludes them. Whatever Q is, only available moves.
        foreach (var q in new long[] { 0, 1, 50, 1_000 })
        {
            var decision = VendorStock.Decide(q, available: 10, reserved: 4);
            Assert.True(decision.Available >= 0);
            Assert.Equal(Math.Max(0, q - 4), decision.Available);
        }
    }

    [Fact]
    public void A_negative_quantity_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => VendorStock.Decide(-1, 0, 0));
    }

    private static readonly Dictionary<string, string> Mapping = new() { ["A1001"] = "VND-A-001", ["A1002"] = "VND-A-002", ["A1003"] = "VND-A-003" };

    [Fact]
    public void Only_mapped_skus_are_taken_and_a_mapped_sku_left_out_keeps_its_stock()
    {
        var (found, missing) = VendorStock.Match([new VendorItem("A1002", 7), new VendorItem("Z9", 1_000), new VendorItem("A1001", 0)], Mapping);

        Assert.Equal([new VendorStock.Reported("VND-A-001", "A1001", 0), new VendorStock.Reported("VND-A-002", "A1002", 7)], found);
        Assert.Equal(["A1003"], missing);
    }

    public static TheoryData<VendorItem?[]?> Nonsense => new()
    {
        null,
        new VendorItem?[] { null },
        new VendorItem?[] { new(null, 1) },
        new VendorItem?[] { new("", 1) },
        new VendorItem?[] { new("A1001", null) },
        new VendorItem?[] { new("A1001", -1) },
        new VendorItem?[] { new("A1001", VendorStock.MaxQuantity + 1) },
        new VendorItem?[] { new("A1001", 1), new("A1001", 2) },
    };

    [Theory]
    [MemberData(nameof(Nonsense))]
    public void An_answer_that_cannot_be_right_is_refused_whole(VendorItem?[]? answer)
    {
        Assert.Throws<InvalidVendorAnswerException>(() => VendorStock.Match(answer, Mapping));
    }

    [Fact]
    public void The_vendor_list_is_refused_at_start_when_two_vendors_feed_one_sku_or_a_vendor_is_unusable()
    {
        var options = new VendorOptions
        {
            List =
            [
                new() { Name = "vendor-a", BaseUrl = "http://vendor-a.test", Skus = new() { ["A1"] = "VND-1" } },
                new() { Name = "vendor-b", BaseUrl = "http://vendor-b.test", Skus = new() { ["B1"] = "VND-1" } },
                new() { Name = "Vendor C", BaseUrl = "ftp://c", Skus = [] },
                new() { Name = "vendor-a", BaseUrl = "http://again.test", Skus = new() { ["A9"] = "VND-9" } },
            ],
        };

        var problems = VendorOptionsValidator.Problems(options);

        Assert.Contains(problems, p => p.Contains("VND-1 is already fed by vendor-a", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Vendors__List__2__Name", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Vendors__List__2__BaseUrl", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Vendors__List__2__Skus", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("'vendor-a' names two vendors", StringComparison.Ordinal));
        Assert.Empty(VendorOptionsValidator.Problems(new VendorOptions { List = [options.List[0]] }));
    }

    [Fact]
    public void A_failed_sync_keeps_the_last_good_one_and_counts_failures_in_a_row()
    {
        using var provider = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = Options.Create(new VendorOptions
        {
            List = [new() { Name = "vendor-a", BaseUrl = "http://vendor-a.test", Skus = new() { ["A1"] = "VND-1", ["A2"] = "VND-2" } }],
        });
        var board = new VendorStatusBoard(options, provider.GetRequiredService<IMeterFactory>(), TimeProvider.System);
        Assert.Equal(VendorStates.Unknown, board.Get("vendor-a").State);

        board.Succeeded("vendor-a", [new VendorSkuStatus("VND-1", "A1", 5, 0, 8, 3)]);
        var good = board.Get("vendor-a");
        Assert.Equal((VendorStates.Healthy, 1, 3L, 0), (good.State, good.SkusSynced, good.Shortfall, good.ConsecutiveFailures));
        Assert.NotNull(good.LastSuccessAt);
        Assert.Null(good.Items.Single(i => i.Sku == "VND-2").Quantity); // not reported yet

        board.Failed("vendor-a", VendorStates.Failing, "answered 503 ServiceUnavailable");
        board.Failed("vendor-a", VendorStates.CircuitOpen, "not called");
        var bad = board.Get("vendor-a");
        Assert.Equal((VendorStates.CircuitOpen, 2, good.LastSuccessAt, "not called"), (bad.State, bad.ConsecutiveFailures, bad.LastSuccessAt, bad.LastError));
        Assert.Same(good.Items, bad.Items); // the stock stays as the last good sync left it

        board.Succeeded("vendor-a", [new VendorSkuStatus("VND-2", "A2", 4, 4, 0, 0)]);
        var again = board.Get("vendor-a");
        Assert.Equal((VendorStates.Healthy, 0, (string?)null, 3L), (again.State, again.ConsecutiveFailures, again.LastError, again.Shortfall));
        Assert.Equal(5L, again.Items.Single(i => i.Sku == "VND-1").Quantity); // a SKU it left out keeps what it had
    }

    [Fact]
    public async Task Each_vendor_has_its_own_circuit_breaker()
    {
        var vendors = new Vendors();
        await using var services = Services(vendors);
        var clients = services.GetRequiredService<IHttpClientFactory>();
        var a = clients.CreateClient(VendorClients.Name("vendor-a"));
        var b = clients.CreateClient(VendorClients.Name("vendor-b"));

        // vendor-a answers 503: one call is two attempts (a retry), both failures, and its circuit opens.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await a.GetAsync("stock")).StatusCode);
        Assert.Equal(2, vendors.Calls("vendor-a.test"));
        await Assert.ThrowsAsync<BrokenCircuitException>(() => a.GetAsync("stock"));
        Assert.Equal(2, vendors.Calls("vendor-a.test")); // not called while open

        // vendor-b's calls go through: a breaker of its own.
        Assert.Equal(HttpStatusCode.OK, (await b.GetAsync("stock")).StatusCode);
        Assert.Equal(1, vendors.Calls("vendor-b.test"));
    }

    [Fact]
    public async Task Inconsistent_vendor_settings_stop_inventory_at_start()
    {
        var vendors = new Vendors();
        await using var services = Services(vendors, ("Vendors:List:1:Skus:B2", "VND-A-1"));
        var failure = Record.Exception(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.NotNull(failure);
        Assert.Contains("VND-A-1 is already fed by vendor-a", failure.ToString());
    }

    private static ServiceProvider Services(Vendors vendors, params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Vendors:List:0:Name"] = "vendor-a",
            ["Vendors:List:0:BaseUrl"] = "http://vendor-a.test",
            ["Vendors:List:0:Skus:A1"] = "VND-A-1",
            ["Vendors:List:1:Name"] = "vendor-b",
            ["Vendors:List:1:BaseUrl"] = "http://vendor-b.test",
            ["Vendors:List:1:Skus:B1"] = "VND-B-1",
            ["Vendors:Resilience:Retry:Delay"] = "00:00:00.010",
        }.Concat(settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))).Build();
        var services = new ServiceCollection().AddLogging().AddMetrics();
        services.AddSingleton<IConfiguration>(configuration);
        services.ConfigureHttpClientDefaults(client => client.ConfigurePrimaryHttpMessageHandler(() => vendors));
        services.AddVendorSync(configuration);
        return services.BuildServiceProvider();
    }

    /// <summary>vendor-a.test answers 503, vendor-b.test a stock list; counts the calls each gets.</summary>
    private sealed class Vendors : HttpMessageHandler
    {
        private readonly Dictionary<string, int> _calls = [];

        public int Calls(string host)
        {
            lock (_calls) return _calls.GetValueOrDefault(host);
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            var host = request.RequestUri!.Host;
            lock (_calls) _calls[host] = _calls.GetValueOrDefault(host) + 1;
            return Task.FromResult(host == "vendor-a.test"
                ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent("""[{"vendorSku":"B1","quantity":3}]""", Encoding.UTF8, "application/json") });
        }
    }
}
