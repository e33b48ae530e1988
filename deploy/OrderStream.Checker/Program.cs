using OrderStream.Checker;
using OrderStream.Contracts;

// The operator's command: checks the books of a running (or stopped) deployment and prints the report.
// Exit code 0: every check passed; 1: a check failed; 2: bad arguments or a database/broker unreachable.

// One --<database> flag per saga service's database and one default group per consuming service, from the catalogue.
string[] databases = [.. Catalogue.SagaServices.Select(s => s.Database!)];
string[] consumers = [.. ConsumerGroup.Defaults.Select(g => g.Name)];
var usage = $"""
    usage: OrderStream.Checker {string.Join(" ", databases.Select(d => $"--{d} <cs>"))}
                               [--kafka <host:port>] [--group <service>=<group id>]... [--wait <seconds>]
                               [--examples <n>] [--json]
      <cs>        an Npgsql connection string for that service's database (its own role, or a superuser)
      --kafka     also check consumer lag and list dead letters
      --group     a consumer group id other than the default ({string.Join(", ", consumers)})
      --wait      first wait up to this long for the system to be quiet (outboxes drained, no lag)
      --json      print the report as JSON instead of text
    """;

var values = new Dictionary<string, string>();
var groups = new Dictionary<string, string>();
var json = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--json": json = true; break;
        case "-h" or "--help": Console.WriteLine(usage); return 0;
        case "--group" when i + 1 < args.Length && args[i + 1].Split('=', 2) is [var service, var group]:
            groups[service] = group; i++; break;
        case var name when name.StartsWith("--", StringComparison.Ordinal) && i + 1 < args.Length:
            values[name[2..]] = args[++i]; break;
        default: return Fail($"unexpected argument '{args[i]}'");
    }
}

if (databases.FirstOrDefault(r => !values.ContainsKey(r)) is { } missing) return Fail($"--{missing} is required");
if (values.Keys.Except([.. databases, "kafka", "wait", "examples"]).FirstOrDefault() is { } unknown) return Fail($"unknown option --{unknown}");
if (groups.Keys.Except(consumers).FirstOrDefault() is { } badGroup)
    return Fail($"--group: unknown service '{badGroup}' ({string.Join(", ", consumers[..^1])} or {consumers[^1]})");

var options = new CheckOptions(values) with
{
    KafkaBootstrapServers = values.GetValueOrDefault("kafka"),
    ConsumerGroups = ConsumerGroup.Defaults.Select(g => g with { Name = groups.GetValueOrDefault(g.Name, g.Name) }).ToList(),
    ExampleLimit = values.TryGetValue("examples", out var n) && int.TryParse(n, out var limit) ? limit : 10,
};
var checker = new OrderStreamChecker(options);
try
{
    var wait = values.TryGetValue("wait", out var w) && double.TryParse(w, System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? seconds : 0;
    var report = wait > 0 ? await checker.RunWhenQuietAsync(TimeSpan.FromSeconds(wait)) : await checker.RunAsync();
    Console.WriteLine(json ? report.ToJson() : report.ToString());
    return report.Passed ? 0 : 1;
}
catch (Exception ex) when (ex is Npgsql.NpgsqlException or Confluent.Kafka.KafkaException or TimeoutException or InvalidOperationException)
{
    Console.Error.WriteLine($"check could not run: {ex.GetType().Name}: {ex.Message}");
    return 2;
}

int Fail(string message)
{
    Console.Error.WriteLine(message);
    Console.Error.WriteLine(usage);
    return 2;
}
