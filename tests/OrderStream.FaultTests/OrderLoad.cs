using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using OrderStream.TestSupport;

namespace OrderStream.FaultTests;

/// <summary>
/// Open-model load: places orders at a fixed rate, each with its own Idempotency-Key, and, like a
/// well-behaved client, retries a request that failed (gateway down, 503) with the same key until it
/// gets its 202. A retried POST whose first attempt did commit gets the same order back, so the ids
/// collected here are exactly the orders the system accepted.
/// </summary>
public sealed class OrderLoad : IAsyncDisposable
{
    private readonly HttpClient[] _gateways;
    private readonly ConcurrentDictionary<Guid, bool> _accepted = new();
    private long _retries;
    private long _maxAcceptMs;
    private readonly Task _run;
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _enough = new();
    private int _placed;

    /// <summary>Orders answered 202 so far.</summary>
    public IReadOnlyCollection<Guid> Accepted => [.. _accepted.Keys];

    /// <summary>Requests that failed (connection refused, timeout, 5xx) and were sent again.</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>The slowest successful POST.</summary>
    public TimeSpan SlowestAccept => TimeSpan.FromMilliseconds(Interlocked.Read(ref _maxAcceptMs));

    /// <summary>Completes when every order placed has its 202 (after <see cref="StopPlacing"/>, or once all were placed).</summary>
    public Task Completion => _run;

    /// <summary>Orders placed so far (each is accepted eventually, or the load fails).</summary>
    public int Placed => Volatile.Read(ref _placed);

    /// <summary>Places no more orders; those already placed still retry until accepted. For a load that lasts as long as a fault scenario does.</summary>
    public void StopPlacing() => _enough.Cancel();

    /// <summary>Starts placing <paramref name="count"/> orders at <paramref name="perSecond"/>, spread over the given gateways (round robin).</summary>
    public OrderLoad(IEnumerable<Uri> gateways, int count, double perSecond, IReadOnlyList<string> skus, string tag, int seed = 1)
    {
        // Each order is placed as its own user (a customer token whose subject is the body's userId).
        _gateways = [.. gateways.Select(g => new HttpClient(new ActingUserHandler()) { BaseAddress = g, Timeout = TimeSpan.FromSeconds(10) })];
        _run = RunAsync(count, perSecond, skus, tag, new Random(seed));
    }

    private async Task RunAsync(int count, double perSecond, IReadOnlyList<string> skus, string tag, Random random)
    {
        var clock = Stopwatch.StartNew();
        var orders = new List<Task>(count);
        for (var i = 0; i < count && !_enough.IsCancellationRequested; i++)
        {
            // Pacing of an open-model load (arrivals do not wait for answers), not synchronisation.
            var due = TimeSpan.FromSeconds(i / perSecond) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                try { await Task.Delay(due, _enough.Token); }
                catch (OperationCanceledException) { break; }
            }
            Interlocked.Increment(ref _placed);
            orders.Add(PlaceAsync(_gateways[i % _gateways.Length], $"{tag}-{i}", Orders.Body(random, $"{tag}-user-{i % 40}", skus)));
        }
        await Task.WhenAll(orders);
    }

    private async Task PlaceAsync(HttpClient http, string key, object body)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var attempt = Stopwatch.StartNew();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(body) };
                request.Headers.Add("Idempotency-Key", key);
                using var response = await http.SendAsync(request, _stop.Token);
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var accepted = await response.Content.ReadFromJsonAsync<AcceptedOrder>(_stop.Token);
                    _accepted[accepted!.OrderId] = true;
                    var ms = (long)attempt.Elapsed.TotalMilliseconds;
                    long seen;
                    while (ms > (seen = Interlocked.Read(ref _maxAcceptMs)) && Interlocked.CompareExchange(ref _maxAcceptMs, ms, seen) != seen) { }
                    return;
                }
                if ((int)response.StatusCode < 500)
                    throw new InvalidOperationException($"POST /orders ({key}) answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
            catch (Exception ex) when (ex is HttpRequestException || (ex is TaskCanceledException && !_stop.IsCancellationRequested)) { }
            Interlocked.Increment(ref _retries);
            if (deadline.Elapsed > TimeSpan.FromMinutes(3)) throw new TimeoutException($"POST /orders ({key}) still failing after 3 minutes");
            await Task.Delay(200, _stop.Token);
        }
    }

    private sealed record AcceptedOrder(Guid OrderId, string Status);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try { await _run; } catch (Exception) { /* the test already failed or finished; only stop the load */ }
        foreach (var g in _gateways) g.Dispose();
        _stop.Dispose();
        _enough.Dispose();
    }
}
