using System.Globalization;

namespace OrderStream.Dashboard.Components.Shared;

public static class Format
{
    /// <summary>A time as UTC, short: the dashboard and the services' logs agree on UTC.</summary>
    public static string Time(DateTimeOffset? at) => at?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "–";

    public static string Number(long? value) => value?.ToString("#,0", CultureInfo.InvariantCulture) ?? "–";

    public static string Rate(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);

    /// <summary>"45 s", "30 min", "24 h", "2 d": a setting such as Fulfilment__ShipWithin, in its largest whole unit.</summary>
    public static string Duration(TimeSpan span) => span switch
    {
        { TotalSeconds: < 60 } => $"{span.TotalSeconds.ToString("0", CultureInfo.InvariantCulture)} s",
        { TotalMinutes: < 60 } => $"{span.TotalMinutes.ToString("0.#", CultureInfo.InvariantCulture)} min",
        { TotalHours: < 48 } => $"{span.TotalHours.ToString("0.#", CultureInfo.InvariantCulture)} h",
        _ => $"{span.TotalDays.ToString("0.#", CultureInfo.InvariantCulture)} d",
    };
}
