using OrderStream.Contracts;

namespace OrderStream.Stack;

/// <summary>
/// What a plan needs to know about the infrastructure it wires the services to. Everything else (which
/// services, in which order, which settings each one gets) comes from <see cref="Catalogue"/>.
/// </summary>
public sealed record StackEndpoints
{
    /// <summary>The repository root: the services' build output is under <c>services/{Name}/bin</c>.</summary>
    public required string Root { get; init; }

    /// <summary>The build configuration whose output runs (Release, Debug).</summary>
    public string Configuration { get; init; } = "Release";

    public required string KafkaBootstrap { get; init; }

    /// <summary>Given to the services that use Redis (<c>Redis__Configuration</c>).</summary>
    public required string RedisConfiguration { get; init; }

    /// <summary>One connection string per database, keyed by <see cref="ServiceSpec.Key"/>.</summary>
    public required IReadOnlyDictionary<string, string> ConnectionStrings { get; init; }

    /// <summary>Each service's HTTP port on 127.0.0.1, keyed by <see cref="ServiceSpec.Key"/>.</summary>
    public required IReadOnlyDictionary<string, int> Ports { get; init; }

    /// <summary>
    /// The PEM RSA public key every service validates bearer tokens with (<c>Auth__SigningKeyFile</c>); its
    /// private half (<see cref="LocalIdentity"/>) mints the tokens.
    /// </summary>
    public required string SigningKeyFile { get; init; }

    /// <summary>The <c>iss</c> the services accept (<c>Auth__Issuer</c>).</summary>
    public string Issuer { get; init; } = LocalIdentity.DefaultIssuer;

    /// <summary>The <c>aud</c> the services accept (<c>Auth__Audience</c>).</summary>
    public string Audience { get; init; } = LocalIdentity.DefaultAudience;

    /// <summary>
    /// The private key the dashboard's load test page mints its simulated customers' tokens with
    /// (<c>Gateway__SigningKeyFile</c>), on a stack of this machine only; null: none, and the page cannot run.
    /// Everything else the dashboard does, it does with the signed-in person's own token.
    /// </summary>
    public string? FrontendSigningKeyFile { get; init; }

    /// <summary>Put before each service's name in <c>OTEL_SERVICE_NAME</c> (several stacks exporting to one viewer).</summary>
    public string ServiceNamePrefix { get; init; } = "";

    /// <summary>Settings the caller adds for one service (tuning, test hooks); they override the plan's own.</summary>
    public Func<ServiceSpec, IEnumerable<KeyValuePair<string, string>>> ExtraSettings { get; init; } = _ => [];

    public Uri BaseAddress(ServiceSpec service) =>
        new($"http://127.0.0.1:{(Ports.TryGetValue(service.Key, out var port) ? port : throw new KeyNotFoundException($"No port for {service.Name}"))}");
}

/// <summary>How one service is started: its assembly, its port and its whole environment.</summary>
public sealed record ServiceLaunch(ServiceSpec Spec, string Dll, int Port, IReadOnlyDictionary<string, string> Environment)
{
    public string Name => Spec.Name;
}

/// <summary>
/// The one orchestration of a stack on this machine: which processes run, in which order and with which
/// settings. deploy/local/run.sh executes it (through <c>OrderStream.Stack plan</c>) and the test harness
/// starts the same launches, so the two cannot wire a service differently.
/// </summary>
public static class StackPlan
{
    /// <summary>The launches of <paramref name="services"/> (every process by default), in <see cref="Catalogue.All"/>'s start order.</summary>
    public static IReadOnlyList<ServiceLaunch> For(StackEndpoints endpoints, IEnumerable<ServiceSpec>? services = null)
    {
        var wanted = (services ?? Catalogue.All).ToHashSet();
        return [.. Catalogue.All.Where(wanted.Contains).Select(s => Launch(s, endpoints, wanted))];
    }

    public static string DllPath(ServiceSpec service, string root, string configuration) =>
        Path.Combine(root, service.Folder, "bin", configuration, "net10.0", service.Project + ".dll");

    private static ServiceLaunch Launch(ServiceSpec service, StackEndpoints endpoints, IReadOnlySet<ServiceSpec> running)
    {
        var env = service.Kind switch
        {
            ServiceKind.Saga => SagaSettings(service, endpoints, running),
            ServiceKind.Mock => new Dictionary<string, string>(DemoVendors.MockSettings(service)),
            _ => FrontendSettings(service, endpoints),
        };
        env["OTEL_SERVICE_NAME"] = endpoints.ServiceNamePrefix + service.Name;
        foreach (var (name, value) in endpoints.ExtraSettings(service)) env[name] = value;
        return new ServiceLaunch(service, DllPath(service, endpoints.Root, endpoints.Configuration), endpoints.Ports[service.Key], env);
    }

    private static Dictionary<string, string> SagaSettings(ServiceSpec service, StackEndpoints endpoints, IReadOnlySet<ServiceSpec> running)
    {
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__Db"] = endpoints.ConnectionStrings[service.Database!],
            ["Kafka__BootstrapServers"] = endpoints.KafkaBootstrap,
            ["Auth__SigningKeyFile"] = endpoints.SigningKeyFile,
            ["Auth__Issuer"] = endpoints.Issuer,
            ["Auth__Audience"] = endpoints.Audience,
        };
        if (service.UsesRedis) env["Redis__Configuration"] = endpoints.RedisConfiguration;
        var callees = service.Calls.Select(Catalogue.ByKey).ToList();
        foreach (var callee in callees.Where(c => c.Kind != ServiceKind.Mock))
            env[EnvironmentName(callee.AddressSetting)] = endpoints.BaseAddress(callee).ToString().TrimEnd('/');
        // A mock vendor is synced only when it runs beside the service: a plan without the vendors (most test
        // stacks) gives inventory none, and it syncs nothing.
        var vendors = callees.Where(c => c.Kind == ServiceKind.Mock && running.Contains(c)).Select(c => (c, endpoints.BaseAddress(c).ToString().TrimEnd('/')));
        foreach (var (name, value) in DemoVendors.InventorySettings(vendors)) env[name] = value;
        return env;
    }

    // A frontend is a client of the gateway's HTTP API, calling it with the signed-in person's own token (which
    // never reaches a browser). People sign in with tokens of this stack, validated as the services validate them.
    private static Dictionary<string, string> FrontendSettings(ServiceSpec service, StackEndpoints endpoints)
    {
        var env = new Dictionary<string, string>
        {
            ["Auth__SigningKeyFile"] = endpoints.SigningKeyFile,
            ["Auth__Issuer"] = endpoints.Issuer,
            ["Auth__Audience"] = endpoints.Audience,
        };
        foreach (var callee in service.Calls.Select(Catalogue.ByKey))
        {
            env[callee.Section + "__BaseUrl"] = endpoints.BaseAddress(callee).ToString().TrimEnd('/');
            if (endpoints.FrontendSigningKeyFile is { } key) env[callee.Section + "__SigningKeyFile"] = key;
        }
        // The dashboard's load test page checks the books with the checker, which reads every database and
        // Kafka directly: the one exception to "a client of the gateway only" (docs/dashboard.md).
        if (service == Catalogue.Dashboard)
        {
            foreach (var saga in Catalogue.SagaServices)
                env["Checker__" + saga.Section] = endpoints.ConnectionStrings[saga.Database!];
            env["Checker__Kafka"] = endpoints.KafkaBootstrap;
        }
        return env;
    }

    /// <summary>A configuration key as an environment variable: <c>Services:Inventory</c> → <c>Services__Inventory</c>.</summary>
    public static string EnvironmentName(string setting) => setting.Replace(":", "__", StringComparison.Ordinal);
}
