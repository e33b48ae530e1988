using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using StackExchange.Redis;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

/// <summary>
/// The four services exporting traces and metrics by OTLP to a receiver the test runs: metrics to the shared
/// endpoint, traces to their own (as compose sends them to Jaeger), each signal with its own protocol.
/// </summary>
public sealed class TracedStack : OrderStreamStack
{
    public OtlpReceiver Otlp { get; } = new();

    protected override IReadOnlyDictionary<string, string> ExtraSettings(string service) => new Dictionary<string, string>
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = Otlp.Endpoint,
        ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = Otlp.TracesEndpoint,
        ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] = "http/protobuf",
        ["OTEL_EXPORTER_OTLP_METRICS_PROTOCOL"] = "http/protobuf",
        ["OTEL_SERVICE_NAME"] = service,
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
        ["OTEL_METRIC_EXPORT_INTERVAL"] = "1000",
    };

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await Otlp.DisposeAsync();
    }
}

public sealed class TracingTests(TracedStack stack, ITestOutputHelper output) : IClassFixture<TracedStack>
{
    private const string Gateway = "api-gateway", Inventory = "inventory", Payment = "payment", Materializer = "order-materializer";

    public static TheoryData<string, string, (string Service, string Topic)[]> Outcomes => new()
    {
        { "alice", OrderStatus.Confirmed, [(Inventory, Topics.OrderCreated), (Materializer, Topics.OrderCreated), (Payment, Topics.InventoryReserved),
            (Materializer, Topics.InventoryReserved), (Inventory, Topics.PaymentAuthorized), (Materializer, Topics.PaymentAuthorized), (Materializer, Topics.InventorySold)] },
        { "bob-wants-too-much", OrderStatus.Failed, [(Inventory, Topics.OrderCreated), (Materializer, Topics.OrderCreated), (Materializer, Topics.InventoryFailed)] },
        { "decline-carol", OrderStatus.Failed, [(Inventory, Topics.OrderCreated), (Materializer, Topics.OrderCreated), (Payment, Topics.InventoryReserved),
            (Materializer, Topics.InventoryReserved), (Inventory, Topics.PaymentFailed), (Materializer, Topics.PaymentFailed), (Materializer, Topics.InventoryReleased),
            (Payment, Topics.InventoryReleased)] },
    };

    [Theory]
    [MemberData(nameof(Outcomes))]
    public async Task Each_order_is_one_trace_that_spans_every_service_it_touched(string userId, string status, (string Service, string Topic)[] handled)
    {
        await stack.SeedAsync("T-1", 1_000);
        var qty = userId.StartsWith("bob") ? 5_000 : 1;
        var orderId = await stack.PlaceAsync(Orders.Body(userId, ("T-1", qty, 2.00m)));
        Assert.Equal(status, (await stack.WaitSettledAsync(orderId)).Status);

        // Each service exports in its own batches, so wait for the whole expected set: the POST, every send, every process.
        var published = handled.Select(h => h.Topic).Distinct().ToList();
        var trace = await Eventually.Get(() => Task.FromResult(TraceOf(orderId) is { } t
                && t.Any(s => s.Service == Gateway && s.Name == "POST /orders")
                && published.All(topic => t.Any(s => s.Name == $"send {topic}"))
                && handled.All(h => t.Any(s => IsProcess(s, h.Service, h.Topic))) ? t : null),
            TimeSpan.FromSeconds(20), "the order's POST, send and process spans");
        output.WriteLine(Render(trace));

        // One trace, one tree: a single root (the POST) and every other span's parent in the trace.
        var root = Assert.Single(trace, s => s.ParentSpanId is null);
        Assert.Equal((Gateway, "POST /orders", "POST", "/orders", "202"), (root.Service, root.Name, root["http.request.method"], root["http.route"], root["http.response.status_code"]));
        var ids = trace.Select(s => s.SpanId).ToHashSet();
        Assert.All(trace.Where(s => s != root), s => Assert.Contains(s.ParentSpanId!, ids));

        var services = handled.Select(h => h.Service).Append(Gateway).Distinct();
        foreach (var service in services)
            Assert.Contains(trace, s => s.Service == service && (s["db.system"] ?? s["db.system.name"]) == "postgresql");

        foreach (var send in trace.Where(s => s.Name.StartsWith("send ")))
        {
            Assert.Equal((4 /* producer */, "kafka", "send", "send", orderId.ToString(), orderId.ToString()),
                (send.Kind, send["messaging.system"], send["messaging.operation.type"], send["messaging.operation.name"], send["messaging.kafka.message.key"], send["order.id"]));
            Assert.Equal(send.Name["send ".Length..], send["messaging.destination.name"]);
            Assert.NotNull(send["messaging.message.id"]);
            Assert.NotNull(send["messaging.destination.partition.id"]);
            Assert.NotNull(send["messaging.kafka.offset"]);
            // The version of the span's topic: inventory.reserved is at 2, every other saga event at 1.
            Assert.Equal(EventType.Parse(send["messaging.destination.name"]!).Version.ToString(System.Globalization.CultureInfo.InvariantCulture), send["event.version"]);
        }
        foreach (var process in trace.Where(s => s.Name.StartsWith("process ")))
        {
            Assert.Equal((5 /* consumer */, "kafka", "process", "process", orderId.ToString(), process.Service),
                (process.Kind, process["messaging.system"], process["messaging.operation.type"], process["messaging.operation.name"], process["order.id"], process["messaging.consumer.group.name"]));
            Assert.Equal(process.Name["process ".Length..], process["messaging.destination.name"]);
            Assert.Equal(orderId.ToString(), process["messaging.kafka.message.key"]);
            Assert.NotNull(process["messaging.message.id"]);
            Assert.NotNull(process["messaging.destination.partition.id"]);
            Assert.NotNull(process["messaging.kafka.offset"]);
            Assert.NotNull(process["event.type"]);
            // Each consumer's span hangs under the send span of the message it handled.
            Assert.Equal("send " + process["messaging.destination.name"], trace.Single(s => s.SpanId == process.ParentSpanId).Name);
        }
        Assert.DoesNotContain(trace.SelectMany(s => s.Attributes.Values), v => v.Contains("password", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task Log_lines_carry_the_trace_span_and_order_ids()
    {
        await stack.SeedAsync("T-2", 10);
        var orderId = await stack.PlaceAsync(Orders.Body("dora", ("T-2", 1, 1.00m)));
        var trace = await Eventually.Get(() => Task.FromResult(TraceOf(orderId)), TimeSpan.FromSeconds(20), "the order's trace");

        var line = await Eventually.Get(() => Task.FromResult(File.ReadLines(stack.Gateway.LogFile).FirstOrDefault(l => l.Contains(orderId.ToString()) && l.StartsWith('{'))),
            TimeSpan.FromSeconds(10), "the gateway's log line for the order");
        using var json = JsonDocument.Parse(line);
        var scopes = json.RootElement.GetProperty("Scopes").EnumerateArray().ToList();
        Assert.Contains(scopes, s => s.TryGetProperty("TraceId", out var t) && t.GetString() == trace[0].TraceId);
        Assert.Contains(scopes, s => s.TryGetProperty("SpanId", out var t) && t.GetString()!.Length == 16);
        Assert.Equal(orderId.ToString(), json.RootElement.GetProperty("State").GetProperty("OrderId").GetString());
    }

    [Fact]
    public async Task A_read_is_traced_from_the_gateway_through_its_http_call_to_the_materializer()
    {
        await stack.SeedAsync("T-3", 10);
        var orderId = await stack.PlaceAsync(Orders.Body("erin", ("T-3", 1, 1.00m)));
        await stack.WaitSettledAsync(orderId);
        using (var redis = await ConnectionMultiplexer.ConnectAsync(stack.Redis.Configuration))
            await redis.GetDatabase().KeyDeleteAsync(OrderView.CacheKey(orderId));
        Assert.Equal(HttpStatusCode.OK, (await stack.Http.GetAsync($"/orders/{orderId}")).StatusCode);

        var chain = await Eventually.Get(() =>
        {
            // The last read of the order: the one made after its cache entry was deleted.
            var server = stack.Otlp.Spans.Where(s => s.Service == Gateway && s["url.path"] == $"/orders/{orderId}").MaxBy(s => s.StartNanos);
            var client = server is null ? null : stack.Otlp.Spans.FirstOrDefault(s => s.ParentSpanId == server.SpanId && s.Kind == 3 /* client */);
            var downstream = client is null ? null : stack.Otlp.Spans.FirstOrDefault(s => s.Service == Materializer && s.ParentSpanId == client.SpanId);
            return Task.FromResult(downstream is null ? null : new[] { server!, client!, downstream });
        }, TimeSpan.FromSeconds(20), "gateway → HttpClient → materializer spans");
        var (server, client, downstream) = (chain[0], chain[1], chain[2]);
        Assert.Equal(("GET /orders/{id}", "200"), (server.Name, server["http.response.status_code"]));
        Assert.Equal(("GET", "200"), (client["http.request.method"], client["http.response.status_code"]));
        Assert.Equal("GET /orders/{id:guid}", downstream.Name);
    }

    [Fact]
    public async Task A_malformed_traceparent_is_ignored_and_the_order_still_settles()
    {
        await stack.SeedAsync("T-4", 10);
        var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(Orders.Body("fay", ("T-4", 1, 1.00m))) };
        request.Headers.TryAddWithoutValidation("traceparent", "00-not-a-trace-id-zz");
        request.Headers.TryAddWithoutValidation("tracestate", "===");
        var response = await stack.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var orderId = (await response.Content.ReadFromJsonAsync<Orders.Accepted>())!.OrderId;
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(orderId)).Status);

        // A poison message whose traceparent is garbage is dead-lettered, not an error of the consumer.
        await stack.Kafka.ProduceRawAsync(Topics.OrderCreated, Guid.NewGuid().ToString(), "garbage"u8.ToArray(),
            new() { ["traceparent"] = "garbage", [Headers.EventType] = Topics.OrderCreated });
        await Eventually.True(() => Task.FromResult(stack.Kafka.ReadAll(Topics.DeadLetter(Topics.OrderCreated)).Count >= 2), TimeSpan.FromSeconds(20), "the dead letters");
    }

    [Fact]
    public async Task Every_documented_metric_is_exported()
    {
        await stack.SeedAsync("T-5", 10);
        var orderId = await stack.PlaceAsync(Orders.Body("gus", ("T-5", 1, 1.00m)));
        await stack.WaitSettledAsync(orderId);
        await stack.Http.GetAsync($"/orders/{orderId}");
        await stack.Kafka.ProduceRawAsync(Topics.InventoryReserved, Guid.NewGuid().ToString(), "garbage"u8.ToArray());

        (string Service, string Metric)[] expected =
        [
            (Gateway, "orderstream.orders.accepted"), (Gateway, "orderstream.cache.lookups"), (Gateway, "http.server.request.duration"),
            (Gateway, "orderstream.outbox.depth"), (Gateway, "orderstream.outbox.oldest_unsent_age"),
            (Materializer, "orderstream.orders.settled"), (Materializer, "orderstream.saga.duration"),
            (Inventory, "orderstream.consumer.lag"), (Payment, "orderstream.messaging.dead_lettered"),
        ];
        await Eventually.True(() => Task.FromResult(expected.All(stack.Otlp.Metrics.ContainsKey)), TimeSpan.FromSeconds(30),
            "every metric: missing " + string.Join(", ", expected.Where(e => !stack.Otlp.Metrics.ContainsKey(e))));
    }

    [Fact]
    public async Task Traces_go_to_the_signals_own_endpoint_which_wins_over_the_shared_one()
    {
        await stack.SeedAsync("T-6", 10);
        await Eventually.True(() => Task.FromResult(!stack.Otlp.Spans.IsEmpty), TimeSpan.FromSeconds(20), "a span");
        // Used as given, with no /v1/traces appended; nothing went to the shared endpoint's /v1/traces.
        Assert.Equal([new Uri(stack.Otlp.TracesEndpoint).AbsolutePath], stack.Otlp.TracePaths.Keys);
    }

    [Fact]
    public async Task Scrapes_and_probes_are_not_traced()
    {
        foreach (var path in new[] { "/metrics", "/healthz", "/readyz" })
            Assert.Equal(HttpStatusCode.OK, (await stack.Http.GetAsync(path)).StatusCode);
        // A traced request after them: once its span has arrived, theirs would have too (spans leave in the order they end).
        var marker = $"/orders/{Guid.NewGuid()}";
        Assert.Equal(HttpStatusCode.NotFound, (await stack.Http.GetAsync(marker)).StatusCode);
        await Eventually.True(() => Task.FromResult(stack.Otlp.Spans.Any(s => s.Service == Gateway && s["url.path"] == marker)), TimeSpan.FromSeconds(20), "the marker request's span");

        Assert.DoesNotContain(stack.Otlp.Spans, s => s["url.path"] is "/metrics" or "/healthz" or "/readyz");
    }

    private List<ReceivedSpan>? TraceOf(Guid orderId)
    {
        var spans = stack.Otlp.Spans.ToList();
        var traceIds = spans.Where(s => s["order.id"] == orderId.ToString()).Select(s => s.TraceId).Distinct().ToList();
        if (traceIds.Count == 0) return null;
        Assert.Single(traceIds);
        return spans.Where(s => s.TraceId == traceIds[0]).ToList();
    }

    private static bool IsProcess(ReceivedSpan s, string service, string topic) => s.Service == service && s.Name == $"process {topic}";

    /// <summary>The trace as an indented tree: service, span name, duration, and when it started after the root.</summary>
    public static string Render(List<ReceivedSpan> trace)
    {
        var text = new StringBuilder();
        var start = trace.Min(s => s.StartNanos);
        void Walk(ReceivedSpan span, int depth)
        {
            text.AppendLine($"{new string(' ', depth * 2)}{span.Name}  [{span.Service}]  {span.Duration.TotalMilliseconds:0.0} ms  (+{(span.StartNanos - start) / 1e6:0.0} ms)");
            foreach (var child in trace.Where(s => s.ParentSpanId == span.SpanId).OrderBy(s => s.StartNanos)) Walk(child, depth + 1);
        }
        foreach (var root in trace.Where(s => s.ParentSpanId is null || trace.All(p => p.SpanId != s.ParentSpanId))) Walk(root, 0);
        return text.ToString();
    }
}

/// <summary>The stack as it runs by default: no OTLP endpoint, so no span is recorded or exported.</summary>
public sealed class UnexportedTracingTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    [Fact]
    public async Task Without_an_exporter_every_event_of_an_order_still_carries_the_callers_trace_id()
    {
        await stack.SeedAsync("U-1", 10);
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var callerSpan = ActivitySpanId.CreateRandom().ToHexString();
        var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(Orders.Body("hana", ("U-1", 1, 1.00m))) };
        request.Headers.TryAddWithoutValidation("traceparent", $"00-{traceId}-{callerSpan}-01");
        var response = await stack.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var orderId = (await response.Content.ReadFromJsonAsync<Orders.Accepted>())!.OrderId;
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(orderId)).Status);

        // Every hop of the saga, each event emitted by a different service while handling the one before.
        string[] hops = [Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentAuthorized, Topics.InventorySold, Topics.OrderUpdated];
        var events = await Eventually.Get(() =>
        {
            var found = hops.SelectMany(topic => stack.Kafka.ReadAll(topic).Where(m => Encoding.UTF8.GetString(m.Message.Key!) == orderId.ToString())).ToList();
            return Task.FromResult(hops.All(topic => found.Any(m => m.Topic == topic)) ? found : null);
        }, TimeSpan.FromSeconds(20), "the order's event on every hop");

        var parents = new List<ActivityContext>();
        foreach (var message in events)
        {
            var traceParent = message.Message.Headers.TryGetLastBytes(Headers.TraceParent, out var value) ? Encoding.UTF8.GetString(value) : null;
            Assert.True(ActivityContext.TryParse(traceParent, null, out var context), $"{message.Topic}: traceparent '{traceParent}'");
            Assert.Equal(traceId, context.TraceId.ToHexString());
            parents.Add(context);
        }
        // Each send made a span of its own: the context moved on at every hop rather than being copied along.
        var spans = parents.Select(p => p.SpanId.ToHexString()).Append(callerSpan).ToList();
        Assert.Equal(spans.Count, spans.Distinct().Count());

        var line = await Eventually.Get(() => Task.FromResult(File.ReadLines(stack.Gateway.LogFile).FirstOrDefault(l => l.Contains(orderId.ToString()) && l.StartsWith('{'))),
            TimeSpan.FromSeconds(10), "the gateway's log line for the order");
        using var json = JsonDocument.Parse(line);
        Assert.Contains(json.RootElement.GetProperty("Scopes").EnumerateArray(), s => s.TryGetProperty("TraceId", out var t) && t.GetString() == traceId);
    }
}
