using System.Globalization;

namespace OrderStream.Dashboard.Components.Shared;

public static class Format
{
    /// <summary>A time as UTC, short: the dashboard and the services' logs agree on UTC.</summary>
    public static string Time(DateTimeOffset? at) => at?.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "–";

    public static string Number(long? value) => value?.ToString("#,0", CultureInfo.InvariantCulture) ?? "–";

    public static string Rate(double value) => value.ToString("0.#", CultureInfo.InvariantCulture);
}
