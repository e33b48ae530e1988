using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;

namespace OrderStream.Inventory.Domain;

/// <summary>How a vendor's sync stands, as <c>GET /admin/inventory/vendors</c> answers it.</summary>
/// <param name="State">One of <see cref="VendorStates"/>: the outcome of the last sync.</param>
/// <param name="LastSuccessAt">When its stock was last applied; unchanged while it fails (the stock stays as then).</param>
/// <param name="Skus">SKUs mapped to it; <paramref name="SkusSynced"/> of them were in its last good answer.</param>
/// <param name="Shortfall">Reserved units its last good answer no longer covers, over all its SKUs.</param>
public sealed record VendorStatus(
    string Name, string BaseUrl, string State, DateTimeOffset? LastSuccessAt, DateTimeOffset? LastAttemptAt, string? LastError,
    int ConsecutiveFailures, int Skus, int SkusSynced, long Shortfall, IReadOnlyList<VendorSkuStatus> Items);

/// <summary>A mapped SKU as the last good sync left it (<c>Quantity</c> null: the vendor has not reported it yet).</summary>
public sealed record VendorSkuStatus(string Sku, string VendorSku, long? Quantity, long? Available, long? Reserved, long Shortfall);

public static class VendorStates
{
    /// <summary>No sync has finished since the start.</summary>
    public const string Unknown = "unknown";
    public const string Healthy = "healthy";
    /// <summary>The last call failed: refused, timed out, an error status or an answer that is not a stock list.</summary>
    public const string Failing = "failing";
    /// <summary>The vendor's circuit breaker is open after repeated failures: it was not called at all.</summary>
    public const string CircuitOpen = "circuit-open";
}

/// <summary>
/// Each vendor's sync state, in memory (a restart starts from <see cref="VendorStates.Unknown"/> and syncs at once),
/// and the metrics drawn from it: <c>orderstream.vendor.sync.age</c>, <c>orderstream.vendor.up</c>,
/// <c>orderstream.vendor.shortfall</c> and <c>orderstream.vendor.sync.failures</c>, each tagged <c>vendor</c>.
/// Each vendor is written by its own sync loop only; readers take whole records.
/// </summary>
public sealed class VendorStatusBoard
{
    private readonly ConcurrentDictionary<string, VendorStatus> _vendors = new(StringComparer.Ordinal);
    private readonly List<string> _order;
    private readonly TimeProvider _clock;
    private readonly DateTimeOffset _startedAt;
    private readonly Counter<long> _failures;

    public VendorStatusBoard(IOptions<VendorOptions> options, IMeterFactory meters, TimeProvider clock)
    {
        _clock = clock;
        _startedAt = clock.GetUtcNow();
        _order = [.. options.Value.List.Select(v => v.Name)];
        foreach (var vendor in options.Value.List)
            _vendors[vendor.Name] = new VendorStatus(vendor.Name, vendor.BaseUrl, VendorStates.Unknown, null, null, null, 0, vendor.Skus.Count, 0, 0,
                [.. vendor.Skus.Select(s => new VendorSkuStatus(s.Value, s.Key, null, null, null, 0)).OrderBy(s => s.Sku, StringComparer.Ordinal)]);

        var meter = meters.Create("OrderStream.Inventory");
        _failures = meter.CreateCounter<long>("orderstream.vendor.sync.failures", "{sync}",
            "Vendor stock syncs that failed: the vendor down, slow, answering errors or nonsense, or its circuit open");
        // Since the start for a vendor never synced, so an alert on the age fires for it too.
        meter.CreateObservableGauge<double>("orderstream.vendor.sync.age", () => Measure(v => (_clock.GetUtcNow() - (v.LastSuccessAt ?? _startedAt)).TotalSeconds),
            "s", "Seconds since the vendor's stock was last applied");
        meter.CreateObservableGauge<double>("orderstream.vendor.up", () => Measure(v => v.State == VendorStates.Healthy ? 1 : 0),
            null, "1 when the vendor's last sync succeeded, else 0");
        meter.CreateObservableGauge<double>("orderstream.vendor.shortfall", () => Measure(v => v.Shortfall),
            "{unit}", "Reserved units the vendor's last report no longer covers (honoured; the vendor's to resolve)");
        foreach (var name in _order) _failures.Add(0, Tag(name)); // on /metrics from the start: 0 failures, not "no data"
    }

    /// <summary>Every vendor, in the configured order.</summary>
    public IReadOnlyList<VendorStatus> Snapshot() => [.. _order.Select(n => _vendors[n])];

    public VendorStatus Get(string vendor) => _vendors[vendor];

    /// <summary>A good answer was applied: <paramref name="reported"/> are the SKUs it held; the others keep what they had.</summary>
    public void Succeeded(string vendor, IReadOnlyList<VendorSkuStatus> reported)
    {
        var now = _clock.GetUtcNow();
        var before = _vendors[vendor];
        var fresh = reported.ToDictionary(r => r.Sku, StringComparer.Ordinal);
        var items = before.Items.Select(i => fresh.GetValueOrDefault(i.Sku, i)).ToList();
        _vendors[vendor] = before with
        {
            State = VendorStates.Healthy, LastSuccessAt = now, LastAttemptAt = now, LastError = null, ConsecutiveFailures = 0,
            SkusSynced = reported.Count, Shortfall = items.Sum(i => i.Shortfall), Items = items,
        };
    }

    /// <summary>The sync failed; the stock stays as the last good answer left it.</summary>
    public void Failed(string vendor, string state, string error)
    {
        var before = _vendors[vendor];
        _vendors[vendor] = before with { State = state, LastAttemptAt = _clock.GetUtcNow(), LastError = error, ConsecutiveFailures = before.ConsecutiveFailures + 1 };
        _failures.Add(1, Tag(vendor));
    }

    private IEnumerable<Measurement<double>> Measure(Func<VendorStatus, double> value) =>
        _order.Select(n => new Measurement<double>(value(_vendors[n]), Tag(n)));

    private static KeyValuePair<string, object?> Tag(string vendor) => new("vendor", vendor);
}
