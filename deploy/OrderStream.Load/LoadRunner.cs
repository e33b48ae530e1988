using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace OrderStream.Load;

/// <summary>What to send and how to wait for it.</summary>
public sealed record LoadOptions(Uri Gateway, Scenario Scenario)
{
    public int Skus { get; init; } = 10;
    public int MaxQty { get; init; } = 3;
    /// <summary>Share of orders for SKU-001 alone (a hot SKU: every such order locks the same stock row).</summary>
    public double HotShare { get; init; }
    /// <summary>Share of orders from "decline-*" users, which payment always declines.</summary>
    public double DeclineShare { get; init; }
    public TimeSpan FirstPoll { get; init; } = TimeSpan.FromMilliseconds(250);
    /// <summary>Fixed poll interval; null honours each 202's Retry-After.</summary>
    public TimeSpan? PollInterval { get; init; }
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public int MaxInFlight { get; init; } = 20_000;

    /// <summary>
    /// The bearer token each user sends (a customer token whose subject is that user: the gateway takes the
    /// order's user from it); null sends none (the trivial server needs none).
    /// </summary>
    public Func<string, string>? TokenFor { get; init; }

    public string Describe() =>
        $"start {Scenario.StartRate}/s, stages {string.Join(" ", Scenario.Stages.Select(s => $"{s.Duration.TotalSeconds:0.#}s→{s.Target}/s"))}, " +
        $"skus {Skus}, qty 1-{MaxQty}, hot {HotShare:P0}, declines {DeclineShare:P0}, first poll {FirstPoll.TotalMilliseconds} ms, " +
        $"poll {(PollInterval is { } p ? $"{p.TotalMilliseconds} ms" : "Retry-After")}, settle timeout {SettleTimeout.TotalSeconds} s, max in flight {MaxInFlight}";
}

/// <summary>
/// Places orders on the open-model schedule and follows each one (POST, then GET until it settles),
/// recording POST latency, time to settle (from just before the POST to the first 200), outcomes and errors.
/// </summary>
public sealed class LoadRunner(LoadOptions options, HttpClient http)
{
    private readonly ConcurrentQueue<double> _postMs = new();
    private readonly ConcurrentQueue<double> _settleMs = new();
    private readonly ConcurrentDictionary<string, long> _errors = new();
    private readonly ConcurrentDictionary<string, long> _outcomes = new();
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private readonly Stopwatch _clock = new();
    private readonly RecentLatencies _recentPostMs = new(), _recentSettleMs = new();
    private long _scheduled, _posted, _accepted, _settled, _unsettled, _dropped, _inFlight, _errorCount;

    /// <summary>
    /// The run so far, for a live view (the dashboard's load test page samples it every second): cumulative
    /// counters and the latencies recorded in the last <paramref name="window"/>. Thread-safe and cheap: no
    /// lock on the hot path but the recent-latency ring's, and no copy of the whole run's latencies.
    /// </summary>
    public LoadSnapshot Snapshot(TimeSpan? window = null)
    {
        var now = _clock.Elapsed;
        var since = now - (window ?? TimeSpan.FromSeconds(1));
        return new LoadSnapshot(now, Interlocked.Read(ref _scheduled), Interlocked.Read(ref _posted), Interlocked.Read(ref _accepted),
            Interlocked.Read(ref _settled), Interlocked.Read(ref _unsettled), Interlocked.Read(ref _dropped), Interlocked.Read(ref _errorCount),
            Interlocked.Read(ref _inFlight), _recentPostMs.Since(since), _recentSettleMs.Since(since));
    }

    public static HttpClient CreateClient(Uri gateway) => new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 1_024,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    })
    { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(30) };

    public async Task<LoadReport> RunAsync(CancellationToken ct = default)
    {
        var scenario = options.Scenario;
        var clock = _clock;
        clock.Start();
        var orders = new List<Task>();
        long scheduled = 0;
        while (clock.Elapsed < scenario.Duration && !ct.IsCancellationRequested)
        {
            // Launch every arrival that is due by now; the delay only sets how often we look.
            var due = (long)scenario.ArrivalsBy(clock.Elapsed);
            for (; scheduled < due; scheduled++, Interlocked.Increment(ref _scheduled))
            {
                if (Interlocked.Read(ref _inFlight) >= options.MaxInFlight) { Interlocked.Increment(ref _dropped); continue; }
                orders.Add(OrderAsync(scheduled, ct));
            }
            await Task.Delay(1, ct);
        }
        var generating = clock.Elapsed;
        await Task.WhenAll(orders);
        var total = clock.Elapsed;

        return new LoadReport(
            options.Gateway.ToString(), options.Describe(), total.TotalSeconds,
            scheduled, _posted, _accepted, _settled, _unsettled, _dropped,
            OfferedRate: scheduled / generating.TotalSeconds,
            AchievedRate: _accepted / generating.TotalSeconds,
            SettledRate: _settled / total.TotalSeconds,
            Percentiles.Of(_postMs), Percentiles.Of(_settleMs),
            new SortedDictionary<string, long>(_errors), new SortedDictionary<string, long>(_outcomes));
    }

    private async Task OrderAsync(long n, CancellationToken ct)
    {
        Interlocked.Increment(ref _inFlight);
        try
        {
            await Task.Yield();
            var started = Stopwatch.StartNew();
            var (orderId, token) = await PostAsync(n, ct);
            if (orderId is null) return;
            await FollowAsync(orderId, token, started, ct);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            Count(_errors, ex is TaskCanceledException ? "timeout" : ex.GetType().Name);
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task<(string? OrderId, string? Token)> PostAsync(long n, CancellationToken ct)
    {
        var random = Random.Shared;
        var sku = random.NextDouble() < options.HotShare ? 1 : random.Next(1, options.Skus + 1);
        var user = random.NextDouble() < options.DeclineShare ? $"decline-load-{_run}-{n}" : $"load-{_run}-{n % 1_000}";
        var body = new { userId = user, currency = "EUR", items = new[] { new { sku = $"SKU-{sku:000}", qty = random.Next(1, options.MaxQty + 1), price = 2.50m } } };

        var token = options.TokenFor?.Invoke(user);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(body) };
        if (!string.IsNullOrEmpty(token)) request.Headers.Authorization = new("Bearer", token);
        var clock = Stopwatch.StartNew();
        using var response = await http.SendAsync(request, ct);
        _postMs.Enqueue(clock.Elapsed.TotalMilliseconds);
        _recentPostMs.Add(_clock.Elapsed, clock.Elapsed.TotalMilliseconds);
        Interlocked.Increment(ref _posted);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            Count(_errors, $"POST {(int)response.StatusCode}");
            return (null, null);
        }
        Interlocked.Increment(ref _accepted);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return (json.RootElement.GetProperty("orderId").GetString(), token);
    }

    /// <summary>Polls as the order's own user: another user's token would get a 404.</summary>
    private async Task FollowAsync(string orderId, string? token, Stopwatch started, CancellationToken ct)
    {
        var wait = options.FirstPoll;
        while (true)
        {
            await Task.Delay(wait, ct);
            if (started.Elapsed > options.SettleTimeout)
            {
                Interlocked.Increment(ref _unsettled);
                return;
            }
            using var poll = new HttpRequestMessage(HttpMethod.Get, $"/orders/{orderId}");
            if (!string.IsNullOrEmpty(token)) poll.Headers.Authorization = new("Bearer", token);
            using var response = await http.SendAsync(poll, ct);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                _settleMs.Enqueue(started.Elapsed.TotalMilliseconds);
                _recentSettleMs.Add(_clock.Elapsed, started.Elapsed.TotalMilliseconds);
                Interlocked.Increment(ref _settled);
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct));
                var status = json.RootElement.GetProperty("status").GetString();
                var reason = json.RootElement.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? $" {r.GetString()}" : "";
                Count(_outcomes, status + reason);
                return;
            }
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                Count(_errors, $"GET {(int)response.StatusCode}");
                return;
            }
            wait = options.PollInterval ?? response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
        }
    }

    private void Count(ConcurrentDictionary<string, long> counts, string key)
    {
        counts.AddOrUpdate(key, 1, (_, v) => v + 1);
        if (ReferenceEquals(counts, _errors)) Interlocked.Increment(ref _errorCount);
    }
}

/// <summary>
/// A <see cref="LoadRunner"/>'s run so far (<see cref="LoadRunner.Snapshot"/>): cumulative counters since the
/// start, and the POST and settle latencies (ms) recorded in the last moment.
/// </summary>
public sealed record LoadSnapshot(
    TimeSpan Elapsed, long Scheduled, long Posted, long Accepted, long Settled, long Unsettled, long Dropped, long Errors, long InFlight,
    IReadOnlyList<double> RecentPostMs, IReadOnlyList<double> RecentSettleMs);

/// <summary>
/// The latest latencies with the time each was recorded, in a fixed ring (the oldest are overwritten):
/// enough for a second's percentiles at any rate the tool reaches, at a fixed cost.
/// </summary>
internal sealed class RecentLatencies(int capacity = 16_384)
{
    private readonly (TimeSpan At, double Ms)[] _ring = new (TimeSpan, double)[capacity];
    private long _count;
    private readonly Lock _lock = new();

    public void Add(TimeSpan at, double ms)
    {
        lock (_lock) _ring[_count++ % _ring.Length] = (at, ms);
    }

    public double[] Since(TimeSpan since)
    {
        lock (_lock)
        {
            var values = new List<double>();
            for (var i = _count - 1; i >= Math.Max(0, _count - _ring.Length); i--)
            {
                var (at, ms) = _ring[i % _ring.Length];
                if (at < since) break;
                values.Add(ms);
            }
            return [.. values];
        }
    }
}
