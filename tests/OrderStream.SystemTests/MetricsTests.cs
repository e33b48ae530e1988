using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

/// <summary>
/// Every service's <c>GET /metrics</c>, scraped as Prometheus does (no credential), from the stack as it runs
/// by default: no OTLP endpoint, so the scrape endpoint is the only way out for metrics.
/// </summary>
public sealed class MetricsTests(OrderStreamStack stack, ITestOutputHelper output) : IClassFixture<OrderStreamStack>
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Each_service_shows_the_sagas_own_metrics_once_an_order_has_settled()
    {
        await stack.SeedAsync("M-1", 10);
        var orderId = await stack.PlaceAsync(Orders.Body("mia", ("M-1", 1, 2.00m)));
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(orderId)).Status);
        // A redelivered event (payment and the materializer consume it again) and a malformed one (both dead-letter it).
        var reserved = stack.Kafka.ReadAll(Topics.InventoryReserved).Single(m => Encoding.UTF8.GetString(m.Message.Key!) == orderId.ToString());
        await stack.Kafka.ProduceRawAsync(Topics.InventoryReserved, orderId.ToString(), reserved.Message.Value,
            reserved.Message.Headers.ToDictionary(h => h.Key, h => Encoding.UTF8.GetString(h.GetValueBytes())));
        await stack.Kafka.ProduceRawAsync(Topics.InventoryReserved, Guid.NewGuid().ToString(), "garbage"u8.ToArray());

        (string, string) Topic(string topic) => ("messaging_destination_name", topic);
        (string, string) Group(string group) => ("messaging_consumer_group_name", group);

        var gateway = await ScrapeUntil(stack.Gateway, s => s.Sum("orderstream_orders_accepted_total") >= 1);
        Assert.True(gateway.Sum("orderstream_cache_lookups_total") >= 1, "the gateway's reads looked in the cache");
        Assert.Single(gateway.Of("orderstream_outbox_depth"), d => d.Value >= 0);
        Assert.Single(gateway.Of("orderstream_outbox_oldest_unsent_age_seconds"), d => d.Value >= 0);

        var materializer = await ScrapeUntil(stack.Materializer, s => s.Sum("orderstream_orders_settled_total", ("status", OrderStatus.Confirmed)) >= 1
            && s.Sum("orderstream_consumer_duplicates_total", Topic(Topics.InventoryReserved)) >= 1
            && s.Sum("orderstream_messaging_dead_lettered_total", Topic(Topics.InventoryReserved)) >= 1);
        // Time to settle: the order counted once, in buckets sized for seconds (not the SDK's millisecond defaults).
        var confirmed = ("status", OrderStatus.Confirmed);
        Assert.True(materializer.Sum("orderstream_saga_duration_seconds_count", confirmed) >= 1);
        Assert.InRange(materializer.Sum("orderstream_saga_duration_seconds_sum", confirmed), 0.001, 60);
        Assert.Contains(materializer.Of("orderstream_saga_duration_seconds_bucket", confirmed, ("le", "0.25")), b => b.Value >= 0);
        Assert.Contains(materializer.Of("orderstream_saga_duration_seconds_bucket", confirmed, ("le", "180")), b => b.Value >= 1);

        var payment = await ScrapeUntil(stack.Payment, s => s.Sum("orderstream_consumer_duplicates_total", Group("payment"), Topic(Topics.InventoryReserved)) >= 1
            && s.Sum("orderstream_messaging_dead_lettered_total", Group("payment"), Topic(Topics.InventoryReserved)) >= 1);
        // Counters start at 0 for every subscribed topic: "none yet" is a 0, not a missing series.
        Assert.Equal(0, payment.Sum("orderstream_messaging_dead_lettered_total", Topic(Topics.InventoryReleased)));
        Assert.Single(payment.Of("orderstream_messaging_dead_lettered_total", Topic(Topics.InventoryReleased)));

        var inventory = await ScrapeUntil(stack.Inventory, s => s.Of("orderstream_consumer_lag", Group("inventory"), Topic(Topics.OrderCreated)).Any());
        Assert.All(inventory.Of("orderstream_consumer_lag"), l => Assert.InRange(l.Value, 0, 1_000));
        Assert.Single(inventory.Of("orderstream_saga_timeouts_total"), t => t.Value == 0);
        Assert.Single(inventory.Of("orderstream_outbox_depth"), d => d.Value >= 0);

        foreach (var (service, scrape) in new[] { (stack.Gateway, gateway), (stack.Inventory, inventory), (stack.Payment, payment), (stack.Materializer, materializer) })
            Assert.Single(scrape.Of("target_info", ("service_name", service.Name)));
    }

    [Fact]
    public async Task Each_service_shows_runtime_and_http_metrics_and_its_scrapes_and_probes_are_not_counted_as_requests()
    {
        await stack.SeedAsync("M-2", 10);
        var orderId = await stack.PlaceAsync(Orders.Body("noor", ("M-2", 1, 2.00m)));
        await stack.WaitSettledAsync(orderId);
        // An API request for every service: the seed went to inventory; an order unknown to the cache makes the
        // gateway ask the materializer over HTTP (a client request); the operator's calls reach payment and fulfilment
        // (which has no API of its own) through it.
        Assert.Equal(HttpStatusCode.NotFound, (await stack.Http.GetAsync($"/orders/{Guid.NewGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await stack.Admin.GetAsync("/admin/payment/settings")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await stack.Admin.GetAsync("/admin/fulfilment/status")).StatusCode);

        foreach (var service in stack.Services)
        {
            using var http = new HttpClient { BaseAddress = service.BaseAddress };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
            var scrape = await ScrapeUntil(service, s => s.Sum("http_server_request_duration_seconds_count") >= 1);
            Assert.True(scrape.Sum("dotnet_process_cpu_time_seconds_total") > 0, $"{service.Name}: CPU time");
            Assert.True(scrape.Sum("dotnet_gc_heap_total_allocated_bytes_total") > 0, $"{service.Name}: allocations");
            Assert.True(scrape.Sum("dotnet_process_memory_working_set_bytes") > 0, $"{service.Name}: working set");
            Assert.NotEmpty(scrape.Of("dotnet_thread_pool_thread_count"));
            // Only API requests count: the readiness polls at start, this scrape's predecessors and /healthz do not.
            var routes = scrape.Of("http_server_request_duration_seconds_count").Select(s => s.Labels.GetValueOrDefault("http_route")).ToHashSet();
            Assert.DoesNotContain("/metrics", routes);
            Assert.DoesNotContain("/readyz", routes);
            Assert.DoesNotContain("/healthz", routes);
        }

        var gateway = await Scrape.OfAsync(stack.Gateway);
        Assert.True(gateway.Sum("http_server_request_duration_seconds_count", ("http_route", "/orders"), ("http_request_method", "POST"), ("http_response_status_code", "202")) >= 1);
        Assert.True(gateway.Sum("http_client_request_duration_seconds_count", ("http_request_method", "GET")) >= 1, "the gateway's calls to the materializer");
    }

    private async Task<Scrape> ScrapeUntil(ServiceProcess service, Func<Scrape, bool> holds)
    {
        Scrape? last = null;
        try
        {
            return await Eventually.Get(async () => holds(last = await Scrape.OfAsync(service)) ? last : null, Deadline, $"{service.Name}'s /metrics", TimeSpan.FromMilliseconds(250));
        }
        finally
        {
            output.WriteLine($"== {service.Name} /metrics\n{last?.Text}");
        }
    }
}

/// <summary>One scrape of a service's <c>/metrics</c>, read as Prometheus reads the text format.</summary>
internal sealed partial class Scrape
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public required string Text { get; init; }
    public required IReadOnlyList<Sample> Samples { get; init; }

    public static async Task<Scrape> OfAsync(ServiceProcess service)
    {
        // No admin key: Prometheus sends none.
        using var http = new HttpClient { BaseAddress = service.BaseAddress };
        using var response = await http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        return new Scrape { Text = text, Samples = [.. text.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(Parse)] };
    }

    /// <summary>The samples of a metric that carry every given label value.</summary>
    public IEnumerable<Sample> Of(string name, params (string Label, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Label) == l.Value));

    public double Sum(string name, params (string Label, string Value)[] labels) => Of(name, labels).Sum(s => s.Value);

    // name{label="value",...} value [timestamp]
    private static Sample Parse(string line)
    {
        var match = SampleLine().Match(line);
        Assert.True(match.Success, $"not a sample line: {line}");
        var labels = LabelPair().Matches(match.Groups["labels"].Value)
            .ToDictionary(m => m.Groups["k"].Value, m => Regex.Unescape(m.Groups["v"].Value));
        var value = match.Groups["value"].Value switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            var v => double.Parse(v, CultureInfo.InvariantCulture),
        };
        return new Sample(match.Groups["name"].Value, labels, value);
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(?<labels>.*)\})?\s+(?<value>\S+)(?:\s+\S+)?$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
