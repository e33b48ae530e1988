namespace OrderStream.Dashboard.Hosting;

/// <summary>Where the gateway is and the operator key (<c>Gateway__BaseUrl</c>, <c>Gateway__AdminKey</c>).</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>
    /// The operator key: sent on <c>/admin</c> calls and asked for at sign-in. Without one nobody can sign
    /// in (the dashboard has no other credential), which is the safe failure.
    /// </summary>
    public string? AdminKey { get; set; }

    /// <summary>Each call's timeout: a page's poll must fail fast when the gateway is down, not hang the page.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary><c>Traces__OrderLink</c>: a URL with <c>{orderId}</c>, or unset for no trace link.</summary>
public sealed class TraceOptions
{
    public const string Section = "Traces";

    public string? OrderLink { get; set; }

    public string? LinkFor(Guid orderId) =>
        string.IsNullOrWhiteSpace(OrderLink) ? null : OrderLink.Replace("{orderId}", orderId.ToString(), StringComparison.Ordinal);
}

/// <summary>
/// <c>Checker__*</c>: what the load test page's books check reads (the four databases and the Kafka
/// cluster). The one exception to "a client of the gateway only" (docs/dashboard.md).
/// </summary>
public sealed class CheckerOptions
{
    public const string Section = "Checker";

    public string? Gateway { get; set; }
    public string? Inventory { get; set; }
    public string? Payment { get; set; }
    public string? Materializer { get; set; }
    public string? Kafka { get; set; }

    /// <summary>How long the check waits for the system to be quiet (nothing in flight) before it reads the books anyway.</summary>
    public TimeSpan QuietTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>Null when the check can run; else why not, as the load test summary says it.</summary>
    public string? Missing()
    {
        var missing = new[] { ("Checker__Gateway", Gateway), ("Checker__Inventory", Inventory), ("Checker__Payment", Payment), ("Checker__Materializer", Materializer), ("Checker__Kafka", Kafka) }
            .Where(s => string.IsNullOrWhiteSpace(s.Item2)).Select(s => s.Item1).ToList();
        return missing.Count == 0 ? null : $"not set: {string.Join(", ", missing)}";
    }
}
