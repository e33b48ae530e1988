using System.Text;

namespace OrderStream.Load;

/// <summary>What one run measured. Latencies in milliseconds.</summary>
public sealed record LoadReport(
    string Target,
    string Settings,
    double DurationSeconds,
    long Scheduled,
    long Posted,
    long Accepted,
    long Settled,
    long Unsettled,
    long Dropped,
    double OfferedRate,
    double AchievedRate,
    double SettledRate,
    Percentiles PostLatencyMs,
    Percentiles SettleMs,
    IReadOnlyDictionary<string, long> Errors,
    IReadOnlyDictionary<string, long> Outcomes)
{
    public long ErrorCount => Errors.Values.Sum();

    public override string ToString()
    {
        var text = new StringBuilder();
        text.AppendLine($"target      {Target}");
        text.AppendLine($"settings    {Settings}");
        text.AppendLine($"duration    {DurationSeconds:0.0} s");
        text.AppendLine($"orders      scheduled {Scheduled}, posted {Posted}, accepted {Accepted}, settled {Settled}, unsettled {Unsettled}, dropped {Dropped}");
        text.AppendLine($"rate        offered {OfferedRate:0.0}/s, achieved {AchievedRate:0.0}/s, settled sagas {SettledRate:0.0}/s");
        text.AppendLine($"POST        {PostLatencyMs}");
        text.AppendLine($"settle      {SettleMs}");
        text.AppendLine($"outcomes    {(Outcomes.Count == 0 ? "none" : string.Join(", ", Outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")))}");
        text.Append($"errors      {(Errors.Count == 0 ? "none" : string.Join(", ", Errors.OrderBy(e => e.Key).Select(e => $"{e.Key} {e.Value}")))}");
        return text.ToString();
    }
}

public sealed record Percentiles(double P50, double P95, double P99, double Max, long Count)
{
    public static Percentiles Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        double At(double q) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new Percentiles(At(0.50), At(0.95), At(0.99), sorted.Length == 0 ? 0 : sorted[^1], sorted.Length);
    }

    public override string ToString() => $"p50 {P50:0.0} ms, p95 {P95:0.0} ms, p99 {P99:0.0} ms, max {Max:0.0} ms (n={Count})";
}
