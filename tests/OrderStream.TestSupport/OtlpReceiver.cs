using System.Collections.Concurrent;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace OrderStream.TestSupport;

/// <summary>A span as an OTLP exporter sent it.</summary>
public sealed record ReceivedSpan(
    string Service, string TraceId, string SpanId, string? ParentSpanId, string Name, int Kind,
    ulong StartNanos, ulong EndNanos, IReadOnlyDictionary<string, string> Attributes)
{
    public TimeSpan Duration => TimeSpan.FromTicks((long)(EndNanos - StartNanos) / 100);
    public string? this[string attribute] => Attributes.GetValueOrDefault(attribute);
}

/// <summary>
/// An OTLP/HTTP (protobuf) receiver on a free port, standing in for Jaeger in tests: services export to
/// it with the http/protobuf protocol. It decodes only the fields the tests read, with Google.Protobuf's
/// wire-format reader rather than generated OTLP types.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    public ConcurrentQueue<ReceivedSpan> Spans { get; } = new();
    public ConcurrentDictionary<(string Service, string Metric), bool> Metrics { get; } = new();

    /// <summary>The paths that trace exports arrived on.</summary>
    public ConcurrentDictionary<string, bool> TracePaths { get; } = new();

    /// <summary>The base URL (OTEL_EXPORTER_OTLP_ENDPOINT): traces on /v1/traces, metrics on /v1/metrics.</summary>
    public string Endpoint { get; }

    /// <summary>
    /// A whole URL for traces alone (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), on a path of its own, so a test
    /// can tell which of the two endpoints a service used.
    /// </summary>
    public string TracesEndpoint => Endpoint + TracesOnlyPath;

    private const string TracesOnlyPath = "/traces-only/v1/traces";

    public OtlpReceiver()
    {
        var port = Repo.FreePort();
        Endpoint = $"http://127.0.0.1:{port}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(Endpoint);
        builder.Logging.ClearProviders();
        _app = builder.Build();
        foreach (var path in new[] { "/v1/traces", TracesOnlyPath })
            _app.MapPost(path, async (HttpRequest request) =>
            {
                TracePaths[request.Path] = true;
                foreach (var span in DecodeTraces(await ReadAsync(request))) Spans.Enqueue(span);
                return Results.Bytes([], "application/x-protobuf");
            });
        _app.MapPost("/v1/metrics", async (HttpRequest request) =>
        {
            foreach (var metric in DecodeMetrics(await ReadAsync(request))) Metrics[metric] = true;
            return Results.Bytes([], "application/x-protobuf");
        });
        _app.StartAsync().GetAwaiter().GetResult();
    }

    private static async Task<byte[]> ReadAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        return buffer.ToArray();
    }

    // ExportTraceServiceRequest{1: ResourceSpans{1: Resource{1: KeyValue}, 2: ScopeSpans{2: Span}}}
    private static IEnumerable<ReceivedSpan> DecodeTraces(byte[] body)
    {
        foreach (var resourceSpans in Fields(ByteString.CopyFrom(body), 1))
        {
            var service = Fields(resourceSpans, 1).SelectMany(r => Attributes(r, 1)).FirstOrDefault(a => a.Key == "service.name").Value ?? "?";
            foreach (var scopeSpans in Fields(resourceSpans, 2))
            foreach (var span in Fields(scopeSpans, 2))
                yield return DecodeSpan(service, span);
        }
    }

    private static ReceivedSpan DecodeSpan(string service, ByteString span)
    {
        string trace = "", id = "", name = "";
        string? parent = null;
        int kind = 0;
        ulong start = 0, end = 0;
        var attributes = new Dictionary<string, string>();
        var input = span.CreateCodedInput();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: trace = Convert.ToHexStringLower(input.ReadBytes().Span); break;
                case 2: id = Convert.ToHexStringLower(input.ReadBytes().Span); break;
                case 4: var p = input.ReadBytes(); parent = p.IsEmpty ? null : Convert.ToHexStringLower(p.Span); break;
                case 5: name = input.ReadString(); break;
                case 6: kind = input.ReadEnum(); break;
                case 7: start = input.ReadFixed64(); break;
                case 8: end = input.ReadFixed64(); break;
                case 9: var (k, v) = KeyValue(input.ReadBytes()); attributes[k] = v; break;
                default: input.SkipLastField(); break;
            }
        }
        return new ReceivedSpan(service, trace, id, parent, name, kind, start, end, attributes);
    }

    // ExportMetricsServiceRequest{1: ResourceMetrics{1: Resource, 2: ScopeMetrics{2: Metric{1: name}}}}
    private static IEnumerable<(string, string)> DecodeMetrics(byte[] body)
    {
        foreach (var resourceMetrics in Fields(ByteString.CopyFrom(body), 1))
        {
            var service = Fields(resourceMetrics, 1).SelectMany(r => Attributes(r, 1)).FirstOrDefault(a => a.Key == "service.name").Value ?? "?";
            foreach (var scopeMetrics in Fields(resourceMetrics, 2))
            foreach (var metric in Fields(scopeMetrics, 2))
            foreach (var name in Fields(metric, 1))
                yield return (service, name.ToStringUtf8());
        }
    }

    private static IEnumerable<KeyValuePair<string, string>> Attributes(ByteString message, int field) =>
        Fields(message, field).Select(kv => { var (k, v) = KeyValue(kv); return KeyValuePair.Create(k, v); });

    // KeyValue{1: key, 2: AnyValue{1: string, 2: bool, 3: int64, 4: double}}
    private static (string Key, string Value) KeyValue(ByteString kv)
    {
        var key = Fields(kv, 1).Select(k => k.ToStringUtf8()).First();
        var value = "";
        foreach (var any in Fields(kv, 2))
        {
            var input = any.CreateCodedInput();
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                value = WireFormat.GetTagFieldNumber(tag) switch
                {
                    1 => input.ReadString(),
                    2 => input.ReadBool() ? "true" : "false",
                    3 => input.ReadInt64().ToString(),
                    4 => input.ReadDouble().ToString(System.Globalization.CultureInfo.InvariantCulture),
                    _ => Skip(input),
                };
            }
        }
        return (key, value);
    }

    private static string Skip(CodedInputStream input) { input.SkipLastField(); return ""; }

    /// <summary>The length-delimited values of <paramref name="field"/> in a message.</summary>
    private static IEnumerable<ByteString> Fields(ByteString message, int field)
    {
        var input = message.CreateCodedInput();
        var found = new List<ByteString>();
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited) found.Add(input.ReadBytes());
            else input.SkipLastField();
        }
        return found;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
