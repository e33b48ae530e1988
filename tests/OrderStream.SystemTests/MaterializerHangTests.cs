using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

/// <summary>The whole system with the gateway's calls to other services on timeouts of a second, so a hang shows in seconds.</summary>
public sealed class ShortServiceCallTimeoutStack : OrderStreamStack
{
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan TotalTimeout = TimeSpan.FromSeconds(2.5);
    public static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(2);

    protected override IReadOnlyDictionary<string, string> ExtraSettings(string service) => service == "api-gateway"
        ? new Dictionary<string, string>
        {
            ["ServiceCalls__AttemptTimeout__Timeout"] = AttemptTimeout.ToString("c"),
            ["ServiceCalls__TotalRequestTimeout__Timeout"] = TotalTimeout.ToString("c"),
            // Two hung reads (two attempts each) open it, instead of five.
            ["ServiceCalls__CircuitBreaker__MinimumThroughput"] = "4",
            ["ServiceCalls__CircuitBreaker__BreakDuration"] = BreakDuration.ToString("c"),
        }
        : new Dictionary<string, string>();
}

public sealed class MaterializerHangTests(ShortServiceCallTimeoutStack stack, ITestOutputHelper output) : IClassFixture<ShortServiceCallTimeoutStack>
{
    // What a loaded 2-core machine may add to a timeout before the answer is written and read.
    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(1.5);
    private static readonly TimeSpan Bound = ShortServiceCallTimeoutStack.TotalTimeout + Margin;

    [Fact]
    public async Task While_the_materializer_hangs_a_cached_settled_order_is_still_answered_at_once()
    {
        await stack.SeedAsync("H-1", 10);
        var settled = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("hana", ("H-1", 1, 1.00m))));

        stack.Materializer.Suspend();
        try
        {
            var (response, elapsed) = await TimedGetAsync($"/orders/{settled.OrderId}");
            output.WriteLine($"cached settled order while the materializer hung: {(int)response.StatusCode} in {elapsed.TotalMilliseconds:0} ms");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal((settled.OrderId, settled.Status), await StatusOfAsync(response));
            Assert.True(elapsed < ShortServiceCallTimeoutStack.AttemptTimeout, $"answered after {elapsed}: it waited on the materializer");
        }
        finally
        {
            stack.Materializer.Resume();
        }
    }

    [Fact]
    public async Task While_the_materializer_hangs_an_uncached_order_is_503_within_the_timeout_and_reads_come_back_when_the_breaker_closes()
    {
        await stack.SeedAsync("H-2", 10);
        // A gateway that has been running: its client to the materializer built and its read path compiled, so
        // the times below are the timeouts', not a cold start's.
        var warm = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("hugo", ("H-2", 1, 1.00m))));
        Assert.True(await stack.Redis.DeleteAsync(OrderView.CacheKey(warm.OrderId)));
        // On a loaded machine the materializer's first read can outlast the short attempt timeout: ask until it answers.
        await Eventually.True(async () => (await stack.Http.GetAsync($"/orders/{warm.OrderId}")).StatusCode == HttpStatusCode.OK,
            TimeSpan.FromSeconds(30), "the gateway's first read through the materializer");

        Guid id;
        var answers = new List<(string Path, HttpStatusCode Status, string? MediaType, TimeSpan Elapsed)>();
        stack.Materializer.Suspend();
        try
        {
            // Accepted by the gateway alone; the materializer never hears of it while it hangs, so its pending
            // view exists only as the entry the gateway cached. Deleted, a read has to ask the materializer.
            id = await stack.PlaceAsync(Orders.Body("hugo", ("H-2", 1, 1.00m)));
            await Eventually.True(() => stack.Redis.DeleteAsync(OrderView.CacheKey(id)), TimeSpan.FromSeconds(10), "the gateway's cache entry to be deleted");

            var (first, elapsed) = await TimedGetAsync($"/orders/{id}");
            output.WriteLine($"uncached order while the materializer hung, circuit closed: {(int)first.StatusCode} in {elapsed.TotalMilliseconds:0} ms");
            await AssertUnavailableAsync(first);
            Assert.True(elapsed >= ShortServiceCallTimeoutStack.AttemptTimeout && elapsed <= Bound,
                $"answered after {elapsed}; expected between the attempt timeout and the total timeout plus {Margin.TotalSeconds} s");

            // More hung reads open the circuit: from then on the answer comes without asking the materializer.
            var open = await Eventually.Get(async () =>
            {
                var (response, took) = await TimedGetAsync($"/orders/{id}");
                answers.Add(($"/orders/{id}", response.StatusCode, response.Content.Headers.ContentType?.MediaType, took));
                return took < ShortServiceCallTimeoutStack.AttemptTimeout / 2 ? response : null;
            }, TimeSpan.FromSeconds(30), "the circuit to open");
            output.WriteLine($"circuit open after {answers.Count} more reads: {string.Join(", ", answers.Select(a => $"{a.Elapsed.TotalMilliseconds:0} ms"))}");
            await AssertUnavailableAsync(open);
            Assert.InRange(open.Headers.RetryAfter!.Delta!.Value, TimeSpan.FromSeconds(1), ShortServiceCallTimeoutStack.BreakDuration);

            // An unknown id is still a 404: the gateway's own table says which orders exist.
            Assert.Equal(HttpStatusCode.NotFound, (await stack.Http.GetAsync($"/orders/{Guid.NewGuid()}")).StatusCode);
            // A passed-through read is a 503 problem too, not a 500.
            var (list, listElapsed) = await TimedGetAsync("/orders?limit=1");
            answers.Add(("/orders?limit=1", list.StatusCode, list.Content.Headers.ContentType?.MediaType, listElapsed));
            Assert.All(answers, a => Assert.True(a is { Status: HttpStatusCode.ServiceUnavailable, MediaType: "application/problem+json" } && a.Elapsed <= Bound,
                $"{a.Path}: {a.Status} {a.MediaType} after {a.Elapsed}"));
        }
        finally
        {
            stack.Materializer.Resume();
        }

        var resumed = Stopwatch.StartNew();
        var back = await Eventually.Get(async () =>
        {
            var response = await stack.Http.GetAsync($"/orders/{id}");
            return response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted ? response : null;
        }, TimeSpan.FromSeconds(30), "reads to be answered again");
        output.WriteLine($"answered {(int)back.StatusCode} {resumed.ElapsedMilliseconds} ms after the materializer resumed");
        Assert.Equal(id, (await StatusOfAsync(back)).OrderId);
        // The materializer catches up with what it missed while it hung, and the order settles.
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(id, TimeSpan.FromSeconds(60))).Status);
    }

    private async Task<(HttpResponseMessage Response, TimeSpan Elapsed)> TimedGetAsync(string path)
    {
        var clock = Stopwatch.StartNew();
        var response = await stack.Http.GetAsync(path);
        await response.Content.LoadIntoBufferAsync();
        return (response, clock.Elapsed);
    }

    private static async Task AssertUnavailableAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, $"expected 503, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter?.Delta);
        Assert.Contains("order-materializer", body);
    }

    private static async Task<(Guid OrderId, string Status)> StatusOfAsync(HttpResponseMessage response)
    {
        var view = (await response.Content.ReadFromJsonAsync<OrderView>(EventJson.Options))!;
        return (view.OrderId, view.Status);
    }
}
