using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

/// <summary>The four services exporting to the local trace viewer as deploy/local/run.sh wires them: OTLP over gRPC.</summary>
public sealed class ViewedStack : OrderStreamStack
{
    public TraceViewer Viewer { get; } = new();

    protected override IReadOnlyDictionary<string, string> ExtraSettings(string service) => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Viewer.OtlpGrpcEndpoint,
        ["OTEL_SERVICE_NAME"] = service,
        // Export batches every 200 ms instead of every 5 s: the test waits less; what arrives is the same.
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Viewer.Dispose();
    }
}

/// <summary>
/// What a user of the local stack sees in the trace viewer, read through its telemetry API. Depends only on
/// service names, trace ids and the <c>order.id</c> attribute, not on span names.
/// </summary>
public sealed class TraceViewerTests(ViewedStack stack, ITestOutputHelper output) : IClassFixture<ViewedStack>
{
    private static readonly string[] Services = ["api-gateway", "inventory", "payment", "order-materializer"];

    [Fact]
    public async Task An_order_is_one_trace_in_the_viewer_with_spans_of_all_four_services()
    {
        await stack.SeedAsync("V-1", 10);
        var orderId = await PlaceConfirmedAsync("V-1");

        var trace = await TraceOfAsync(orderId);
        output.WriteLine($"order {orderId}, trace {trace[0].TraceId}: " +
                         string.Join(", ", trace.GroupBy(s => s.Service).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()} spans")));
        foreach (var service in Services)
            Assert.Contains(trace, s => s.Service == service && s["order.id"] == orderId.ToString());
        // The UI's Resource filter offers every service.
        Assert.Subset((await stack.Viewer.ResourcesAsync()).ToHashSet(), Services.ToHashSet());
    }

    [Fact]
    public async Task An_order_trace_ends_with_its_saga_and_takes_in_no_statement_run_after_it()
    {
        await stack.SeedAsync("V-2", 10);
        var first = await TraceOfAsync(await PlaceConfirmedAsync("V-2"));
        // A later order makes every service's outbox relay read and publish again.
        var second = await TraceOfAsync(await PlaceConfirmedAsync("V-2"));

        // Every statement of the first saga ran before its order was confirmed, so before the second was placed.
        // A relay that left its last publish span current would add its later reads here, for ever.
        var secondPlaced = second.Min(s => s.StartNanos);
        var firstNow = await stack.Viewer.TraceAsync(first[0].TraceId);
        Assert.DoesNotContain(firstNow, s => (s["db.system.name"] ?? s["db.system"]) is not null && s.StartNanos >= secondPlaced);
    }

    private async Task<Guid> PlaceConfirmedAsync(string sku)
    {
        var orderId = await stack.PlaceAsync(Orders.Body("alice", (sku, 1, 2.00m)));
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(orderId)).Status);
        return orderId;
    }

    /// <summary>
    /// Waits until each service has exported a span of the order, checks they all share one trace, and
    /// returns that trace as the viewer holds it.
    /// </summary>
    private async Task<IReadOnlyList<ReceivedSpan>> TraceOfAsync(Guid orderId)
    {
        var spans = await Eventually.Get(async () =>
        {
            var ofOrder = (await stack.Viewer.SpansAsync()).Where(s => s["order.id"] == orderId.ToString()).ToList();
            return Services.All(service => ofOrder.Any(s => s.Service == service)) ? ofOrder : null;
        }, TimeSpan.FromSeconds(30), $"a span of order {orderId} from each service in the trace viewer");
        var traceId = Assert.Single(spans.Select(s => s.TraceId).Distinct());
        return await stack.Viewer.TraceAsync(traceId);
    }
}
