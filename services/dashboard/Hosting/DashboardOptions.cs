using OrderStream.Contracts;
namespace OrderStream.Dashboard.Hosting;

/// <summary>Where the gateway is (<c>Gateway__BaseUrl</c>). The dashboard holds no credential for it: each call carries the signed-in person's token.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>
    /// The private key of a stack on this machine (<c>.local/identity/signing-key.pem</c>), for the load test page
    /// only: its simulated customers each place and poll orders with a token of their own, minted with it
    /// (<see cref="Gateway.DashboardTokens"/>). Unset (compose, Kubernetes): the load test page cannot run.
    /// </summary>
    public string? SigningKeyFile { get; set; }

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
/// <c>Checker__*</c>: what the load test page's books check reads: one connection string per saga
/// service's database, named by its section (<c>Checker__Gateway</c>, <c>Checker__Inventory</c>, … as the
/// catalogue lists them), and the Kafka cluster. The one exception to "a client of the gateway only"
/// (docs/dashboard.md).
/// </summary>
public sealed class CheckerOptions
{
    public const string Section = "Checker";

    /// <summary>Connection strings by database name (<see cref="ServiceSpec.Database"/>), read from <c>Checker__{Section}</c>.</summary>
    public Dictionary<string, string?> Databases { get; } = [];

    public string? Kafka { get; set; }

    /// <summary>How long the check waits for the system to be quiet (nothing in flight) before it reads the books anyway.</summary>
    public TimeSpan QuietTimeout { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>Reads each saga service's connection string from <paramref name="checker"/> (the <c>Checker</c> section).</summary>
    public void ReadDatabases(IConfiguration checker)
    {
        foreach (var service in Catalogue.SagaServices) Databases[service.Database!] = checker[service.Section];
    }

    /// <summary>Null when the check can run; else why not, as the load test summary says it.</summary>
    public string? Missing()
    {
        var missing = Catalogue.SagaServices.Select(s => ($"Checker__{s.Section}", Databases.GetValueOrDefault(s.Database!)))
            .Append(("Checker__Kafka", Kafka))
            .Where(s => string.IsNullOrWhiteSpace(s.Item2)).Select(s => s.Item1).ToList();
        return missing.Count == 0 ? null : $"not set: {string.Join(", ", missing)}";
    }
}
