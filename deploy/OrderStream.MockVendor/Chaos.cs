namespace OrderStream.MockVendor;

/// <summary>The switches, as GET /chaos shows them.</summary>
public sealed record ChaosSwitches(bool Down, int DelayMs, double ErrorRate, bool Fluctuate);

/// <summary>A change of the switches: a field left out (null) keeps its value.</summary>
public sealed record ChaosRequest(bool? Down, int? DelayMs, double? ErrorRate, bool? Fluctuate);

/// <summary>How GET /stock misbehaves: off at start, changed at runtime only.</summary>
public sealed class Chaos
{
    public const int MaxDelayMs = 600_000;
    private volatile ChaosSwitches _current = new(false, 0, 0, false);
    private readonly Lock _lock = new();

    public ChaosSwitches Current => _current;

    public ChaosSwitches Set(ChaosRequest change)
    {
        lock (_lock)
        {
            var c = _current;
            return _current = new ChaosSwitches(change.Down ?? c.Down, change.DelayMs ?? c.DelayMs, change.ErrorRate ?? c.ErrorRate, change.Fluctuate ?? c.Fluctuate);
        }
    }
}
