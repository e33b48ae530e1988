using OrderStream.Load;

namespace OrderStream.Dashboard.Load;

/// <summary>One second of a load run as the charts draw it.</summary>
public sealed record LoadPoint(double Second, double Offered, double Accepted, double Settled, double PostP95, double PostP99, double SettleP95);

/// <summary>
/// Turns a <see cref="LoadRunner"/>'s cumulative snapshots into per-second points: rates are the change
/// of each counter since the previous snapshot over the time between them (so a late sample does not
/// show a spike), percentiles are those of the latencies recorded since then.
/// </summary>
public sealed class LoadSeries
{
    private readonly List<LoadPoint> _points = [];
    private LoadSnapshot? _previous;
    private readonly Lock _lock = new();

    public IReadOnlyList<LoadPoint> Points
    {
        get { lock (_lock) return [.. _points]; }
    }

    public LoadPoint? Latest
    {
        get { lock (_lock) return _points.Count == 0 ? null : _points[^1]; }
    }

    /// <summary>Adds the point between the previous snapshot and this one; the first snapshot only sets the baseline unless it is past zero.</summary>
    public LoadPoint? Add(LoadSnapshot snapshot)
    {
        lock (_lock)
        {
            var previous = _previous ?? new LoadSnapshot(TimeSpan.Zero, 0, 0, 0, 0, 0, 0, 0, 0, [], []);
            _previous = snapshot;
            var seconds = (snapshot.Elapsed - previous.Elapsed).TotalSeconds;
            if (seconds <= 0) return null;
            var post = Percentiles.Of(snapshot.RecentPostMs);
            var settle = Percentiles.Of(snapshot.RecentSettleMs);
            var point = new LoadPoint(
                Math.Round(snapshot.Elapsed.TotalSeconds, 1),
                (snapshot.Scheduled - previous.Scheduled) / seconds,
                (snapshot.Accepted - previous.Accepted) / seconds,
                (snapshot.Settled - previous.Settled) / seconds,
                post.P95, post.P99, settle.P95);
            _points.Add(point);
            return point;
        }
    }
}
