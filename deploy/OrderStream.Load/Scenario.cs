namespace OrderStream.Load;

/// <summary>One stage of a ramping arrival rate: move linearly to <paramref name="Target"/> orders/s over <paramref name="Duration"/>.</summary>
public sealed record Stage(TimeSpan Duration, double Target);

/// <summary>
/// An open-model arrival schedule like k6's ramping-arrival-rate: orders arrive at the scheduled rate
/// whether or not earlier ones have finished, so a slow system shows up as latency, not as a lower rate.
/// </summary>
public sealed record Scenario(double StartRate, IReadOnlyList<Stage> Stages)
{
    public TimeSpan Duration => Stages.Aggregate(TimeSpan.Zero, (sum, s) => sum + s.Duration);

    /// <summary>k6-style stages: "30s:100,1m:100,30s:0".</summary>
    public static Scenario Parse(double startRate, string stages) =>
        new(startRate, stages.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s =>
        {
            var parts = s.Split(':');
            if (parts.Length != 2 || !double.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out var target) || target < 0)
                throw new FormatException($"Stage '{s}' is not 'duration:rate', e.g. '30s:100'");
            return new Stage(ParseDuration(parts[0]), target);
        }).ToList());

    public static TimeSpan ParseDuration(string text)
    {
        var unit = new string(text.SkipWhile(c => char.IsAsciiDigit(c) || c == '.').ToArray());
        var number = double.Parse(text[..^unit.Length], System.Globalization.CultureInfo.InvariantCulture);
        return unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(number),
            "s" or "" => TimeSpan.FromSeconds(number),
            "m" => TimeSpan.FromMinutes(number),
            _ => throw new FormatException($"Unknown duration unit in '{text}' (ms, s, m)"),
        };
    }

    /// <summary>How many orders should have arrived by <paramref name="elapsed"/>: the integral of the rate.</summary>
    public double ArrivalsBy(TimeSpan elapsed)
    {
        double total = 0, rate = StartRate;
        var left = elapsed.TotalSeconds;
        foreach (var stage in Stages)
        {
            var length = stage.Duration.TotalSeconds;
            if (length == 0) { rate = stage.Target; continue; } // "0s:100" jumps straight to 100/s
            var part = Math.Min(left, length);
            if (part <= 0) break;
            var rateAtPart = rate + (stage.Target - rate) * (part / length);
            total += (rate + rateAtPart) / 2 * part;
            left -= part;
            rate = stage.Target;
        }
        return total;
    }

    public double PeakRate => Stages.Select(s => s.Target).Append(StartRate).Max();
}
