using OrderStream.Contracts;
namespace OrderStream.Dashboard.Hosting;

/// <summary>
/// Where the gateway is, how the dashboard authenticates to it (<c>Gateway__SigningKeyFile</c> or
/// <c>Gateway__Token</c>) and the sign-in key (<c>Gateway__BaseUrl</c>, <c>Gateway__AdminKey</c>).
/// </summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    public string BaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>
    /// The key asked for at sign-in (the gateway no longer knows it: calls carry bearer tokens). Without one
    /// nobody can sign in, which is the safe failure.
    /// </summary>
    public string? AdminKey { get; set; }

    /// <summary>
    /// The private key of a stack on this machine (<c>.local/identity/signing-key.pem</c>): the dashboard mints
    /// its own tokens with it (<see cref="Gateway.DashboardTokens"/>). Until it signs its users in itself.
    /// </summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>Without <see cref="SigningKeyFile"/>: the bearer token every call sends (an admin's, from the identity provider).</summary>
    public string? Token { get; set; }

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
