using OrderStream.Contracts;
using OrderStream.Stack;

// What deploy/local/run.sh asks before it starts anything. Output is for bash's `read`: one line per
// item, fields separated by tabs; no value may hold a tab or a line break (checked, exit 2), and run.sh
// passes each field as one argument, never through eval.
const string Usage = """
    usage: OrderStream.Stack databases
             one line per database (a saga service's key), in start order
           OrderStream.Stack identity --state <dir>
             makes a new token signing key pair under <dir>/identity (the private key mode 600)
           OrderStream.Stack token --state <dir> --role <customer|seller|admin>[,<role>...] --user <id> [--ttl <30m|8h|7d>]
             prints a token signed with <dir>/identity's key (default lifetime 1h)
           OrderStream.Stack vendor-products
             one line per SKU the mock vendors feed: sku, name, unit price (EUR), for run.sh to list in the catalogue
           OrderStream.Stack plan --root <repo> --state <dir> --redis <host:port> [--configuration <c>]
                                  [--service-name-prefix <p>] [--set <target>:<NAME>=<value>]...
             one line per process, in start order: name, key, kind (mock|saga|frontend), port, dll, NAME=value...
             <dir> holds run.sh's kafka.bootstrap, connections.env and identity/; each port is <KEY>_PORT
             from the environment (GATEWAY_PORT, ...) or the catalogue's; <target> is a service's name or
             a kind (saga, frontend), and a --set overrides what the plan gives
    """;

if (args is ["databases"])
{
    foreach (var service in Catalogue.SagaServices) Console.WriteLine(service.Database);
    return 0;
}
if (args is ["vendor-products"])
{
    foreach (var item in Catalogue.Mocks.SelectMany(DemoVendors.Of))
        Console.WriteLine(string.Join('\t', item.Sku, item.Name, item.UnitPrice.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    return 0;
}
if (args is [var verb and ("identity" or "token"), .. var identityOptions])
{
    if (identityOptions.Length % 2 != 0) return Fail($"'{identityOptions[^1]}' needs a value");
    var given = new Dictionary<string, string>();
    for (var i = 0; i < identityOptions.Length; i += 2) given[identityOptions[i].TrimStart('-')] = identityOptions[i + 1];
    if (!given.TryGetValue("state", out var stateDirectory)) return Fail("--state is required");
    var identityDirectory = new LocalStackState(stateDirectory).IdentityDirectory;
    if (verb == "identity")
    {
        LocalIdentity.Create(identityDirectory);
        return 0;
    }
    if (!given.TryGetValue("user", out var user) || user.Length is 0 or > 64) return Fail("--user <id> is required (1-64 characters)");
    var roles = given.GetValueOrDefault("role", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    if (roles.Length == 0 || roles.Any(r => r is not ("customer" or "seller" or "admin")))
        return Fail($"--role {given.GetValueOrDefault("role", "")}: expected customer, seller or admin (or several, comma-separated)");
    if (LocalIdentity.ParseLifetime(given.GetValueOrDefault("ttl", "1h")) is not { } ttl) return Fail($"--ttl {given["ttl"]}: expected e.g. 90s, 30m, 8h or 7d (at most 366d)");
    LocalIdentity identity;
    try { identity = LocalIdentity.Load(identityDirectory); }
    catch (FileNotFoundException ex) { Console.Error.WriteLine(ex.Message); return 1; }
    Console.WriteLine(identity.Issue(user, roles, ttl));
    return 0;
}
if (args is not ["plan", .. var planOptions]) return Fail("expected 'databases', 'vendor-products', 'identity', 'token' or 'plan'");
var options = planOptions;

var values = new Dictionary<string, string>();
var extra = new List<(string Target, string Name, string Value)>();
for (var i = 0; i + 1 < options.Length; i += 2)
{
    if (options[i] == "--set")
    {
        if (options[i + 1].Split('=', 2) is not [var key, var value] || key.Split(':', 2) is not [var target, var name])
            return Fail($"--set {options[i + 1]}: expected <target>:<NAME>=<value>");
        if (!Catalogue.All.Any(s => s.Name == target || s.Kind.ToString().Equals(target, StringComparison.OrdinalIgnoreCase)))
            return Fail($"--set {options[i + 1]}: '{target}' is neither a service nor a kind");
        extra.Add((target, name, value));
    }
    else if (options[i].StartsWith("--", StringComparison.Ordinal)) values[options[i][2..]] = options[i + 1];
    else return Fail($"unexpected argument '{options[i]}'");
}
if (options.Length % 2 != 0) return Fail($"'{options[^1]}' needs a value");
if (new[] { "root", "state", "redis" }.FirstOrDefault(r => !values.ContainsKey(r)) is { } missing) return Fail($"--{missing} is required");

var state = new LocalStackState(values["state"]);
var plan = StackPlan.For(new StackEndpoints
{
    Root = values["root"],
    Configuration = values.GetValueOrDefault("configuration", "Release"),
    KafkaBootstrap = state.KafkaBootstrap,
    RedisConfiguration = values["redis"],
    ConnectionStrings = state.ConnectionStrings,
    Ports = LocalStackState.Ports(Environment.GetEnvironmentVariable),
    SigningKeyFile = state.Identity.PublicKeyFile,
    // Only for the dashboard's load test page, whose simulated customers each need a token (docs/dashboard.md).
    FrontendSigningKeyFile = state.Identity.PrivateKeyFile,
    ServiceNamePrefix = values.GetValueOrDefault("service-name-prefix", ""),
    ExtraSettings = s => extra
        .Where(e => e.Target == s.Name || e.Target.Equals(s.Kind.ToString(), StringComparison.OrdinalIgnoreCase))
        .Select(e => KeyValuePair.Create(e.Name, e.Value)),
});

var lines = plan.Select(l => (string[])[l.Name, l.Spec.Key, l.Spec.Kind.ToString().ToLowerInvariant(), l.Port.ToString(), l.Dll,
    .. l.Environment.Select(e => $"{e.Key}={e.Value}")]).ToList();
if (lines.SelectMany(f => f).FirstOrDefault(f => f.AsSpan().IndexOfAny("\t\r\n\0") >= 0) is { } unsafeField)
    return Fail($"a value holds a tab or a line break, which run.sh cannot read: {unsafeField.Split('=')[0]}");
foreach (var fields in lines) Console.WriteLine(string.Join('\t', fields));
return 0;

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    Console.Error.WriteLine(Usage);
    return 2;
}
