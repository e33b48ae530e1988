using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace OrderStream.TestSupport;

/// <summary>
/// The local trace viewer (the Aspire Dashboard in standalone mode, from deploy/OrderStream.TraceViewer) on
/// free ports, started as deploy/local/run.sh starts it: OTLP over gRPC and HTTP, the UI, and its telemetry
/// API, all without a login, which is safe only because everything binds to 127.0.0.1.
/// Tests read what it received through <c>GET /api/telemetry/...</c>, which answers in OTLP JSON:
/// <c>{"data":{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":...}}]},
/// "scopeSpans":[{"scope":{...},"spans":[{"traceId","spanId","parentSpanId"?,"name","kind",
/// "startTimeUnixNano","endTimeUnixNano","attributes":[...]}]}]}]},"totalCount":N,"returnedCount":N}</c>.
/// The viewer stores attribute values as text, so every value arrives as a <c>stringValue</c>.
/// </summary>
public sealed class TraceViewer : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    /// <summary>The UI, and the telemetry API under <c>/api/telemetry/</c>.</summary>
    public Uri Url { get; }
    public string OtlpGrpcEndpoint { get; }
    public string OtlpHttpEndpoint { get; }
    private readonly HttpClient _api;

    public TraceViewer()
    {
        // The build writes where restore put the executable; the packages folder differs between machines.
        var pathFile = Path.Combine(Repo.Root, "deploy", "OrderStream.TraceViewer", "bin", Repo.Configuration, "net10.0", "trace-viewer.path");
        if (!File.Exists(pathFile)) throw new FileNotFoundException($"Build the solution first: {pathFile} is missing");
        Url = new Uri($"http://127.0.0.1:{Repo.FreePort()}");
        OtlpGrpcEndpoint = $"http://127.0.0.1:{Repo.FreePort()}";
        OtlpHttpEndpoint = $"http://127.0.0.1:{Repo.FreePort()}";

        var psi = new ProcessStartInfo(File.ReadAllText(pathFile).Trim())
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath(),
        };
        psi.Environment["ASPNETCORE_URLS"] = Url.GetLeftPart(UriPartial.Authority);
        psi.Environment["ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL"] = OtlpGrpcEndpoint;
        psi.Environment["ASPIRE_DASHBOARD_OTLP_HTTP_ENDPOINT_URL"] = OtlpHttpEndpoint;
        psi.Environment["ASPIRE_DASHBOARD_UNSECURED_ALLOW_ANONYMOUS"] = "true";
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"The trace viewer did not start: {psi.FileName}");
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        _api = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(30) };

        try
        {
            Eventually.True(async () =>
            {
                if (_process.HasExited) throw new InvalidOperationException($"The trace viewer exited with {_process.ExitCode}");
                try { return (await _api.GetAsync("/api/telemetry/resources")).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
            }, TimeSpan.FromSeconds(30), "the trace viewer to answer").GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            Dispose();
            throw new InvalidOperationException($"The trace viewer did not become ready:\n{string.Join('\n', _output)}", ex);
        }
    }

    /// <summary>Every span of every trace the viewer holds (<c>GET /api/telemetry/traces</c>).</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> SpansAsync()
    {
        // The API returns 100 traces unless told otherwise; a test's viewer holds far fewer than this.
        using var json = JsonDocument.Parse(await _api.GetStringAsync("/api/telemetry/traces?limit=100000"));
        return Spans(json);
    }

    /// <summary>One trace, every span of it (<c>GET /api/telemetry/traces/{traceId}</c>).</summary>
    public async Task<IReadOnlyList<ReceivedSpan>> TraceAsync(string traceId)
    {
        using var json = JsonDocument.Parse(await _api.GetStringAsync($"/api/telemetry/traces/{traceId}"));
        return Spans(json);
    }

    /// <summary>The services the viewer has telemetry from (<c>GET /api/telemetry/resources</c>): its UI's Resource filter.</summary>
    public async Task<IReadOnlyList<string>> ResourcesAsync()
    {
        using var json = JsonDocument.Parse(await _api.GetStringAsync("/api/telemetry/resources"));
        return [.. json.RootElement.EnumerateArray().Select(r => r.GetProperty("name").GetString()!)];
    }

    private static List<ReceivedSpan> Spans(JsonDocument json) =>
        [.. from resourceSpans in json.RootElement.GetProperty("data").GetProperty("resourceSpans").EnumerateArray()
            let service = Attributes(resourceSpans.GetProperty("resource")).GetValueOrDefault("service.name", "?")
            from scopeSpans in resourceSpans.GetProperty("scopeSpans").EnumerateArray()
            from span in scopeSpans.GetProperty("spans").EnumerateArray()
            select new ReceivedSpan(
                service,
                span.GetProperty("traceId").GetString()!,
                span.GetProperty("spanId").GetString()!,
                span.TryGetProperty("parentSpanId", out var parent) ? parent.GetString() : null,
                span.GetProperty("name").GetString()!,
                span.GetProperty("kind").GetInt32(),
                ulong.Parse(span.GetProperty("startTimeUnixNano").GetString()!),
                ulong.Parse(span.GetProperty("endTimeUnixNano").GetString()!),
                Attributes(span))];

    private static Dictionary<string, string> Attributes(JsonElement owner) =>
        owner.TryGetProperty("attributes", out var attributes)
            ? attributes.EnumerateArray().ToDictionary(
                a => a.GetProperty("key").GetString()!,
                a => a.GetProperty("value") is var v && v.TryGetProperty("stringValue", out var s) ? s.GetString()! : v.ToString())
            : [];

    private void Keep(string? line)
    {
        if (line is null) return;
        _output.Enqueue(line);
        while (_output.Count > 200) _output.TryDequeue(out _);
    }

    public void Dispose()
    {
        _api.Dispose();
        try { _process.Kill(); _process.WaitForExit(5_000); } catch (InvalidOperationException) { }
        _process.Dispose();
    }
}
