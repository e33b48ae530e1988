using System.Text.RegularExpressions;
using OrderStream.Checker;
using OrderStream.Contracts;

namespace OrderStream.Stack;

/// <summary>
/// A stack started by deploy/local/run.sh, seen through its state directory (<c>.local/</c> or
/// <c>ORDERSTREAM_STATE</c>): the Kafka bootstrap address, one connection string per database
/// (<c>connections.env</c>), the token signing key pair (<c>identity/</c>) and
/// each process's pid file.
/// </summary>
public sealed partial class LocalStackState(string directory)
{
    public string Directory { get; } = directory;

    public string KafkaBootstrap => File.ReadAllText(Path.Combine(Directory, "kafka.bootstrap")).Trim();

    /// <summary>Where run.sh's token signing key pair is (<see cref="LocalIdentity"/>).</summary>
    public string IdentityDirectory => Path.Combine(Directory, "identity");

    /// <summary>The stack's token issuer: the key pair run.sh made for this start.</summary>
    public LocalIdentity Identity => LocalIdentity.Load(IdentityDirectory);

    /// <summary>Connection strings by database (<see cref="ServiceSpec.Database"/>), from run.sh's <c>{DATABASE}_DB='...'</c> lines.</summary>
    public IReadOnlyDictionary<string, string> ConnectionStrings => File.ReadAllLines(Path.Combine(Directory, "connections.env"))
        .Select(line => ConnectionLine().Match(line))
        .Where(m => m.Success)
        .ToDictionary(m => m.Groups[1].Value.ToLowerInvariant(), m => m.Groups[2].Value);

    [GeneratedRegex("^([A-Z0-9_]+)_DB='(.*)'$")]
    private static partial Regex ConnectionLine();

    /// <summary>The checker's view of this stack: every database and the Kafka cluster.</summary>
    public CheckOptions CheckOptions => new CheckOptions(ConnectionStrings) with { KafkaBootstrapServers = KafkaBootstrap };

    /// <summary>The pid in <c>{name}.pid</c> (a service by its name; kafka, redis), or null.</summary>
    public int? Pid(string name)
    {
        var file = Path.Combine(Directory, name + ".pid");
        return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), out var pid) ? pid : null;
    }

    /// <summary>
    /// Each service's port on a local stack: the environment variable named from its key
    /// (<c>GATEWAY_PORT</c>, <c>INVENTORY_PORT</c>, ...) when set, else the catalogue's.
    /// </summary>
    public static IReadOnlyDictionary<string, int> Ports(Func<string, string?> environment) =>
        Catalogue.All.ToDictionary(s => s.Key, s => int.TryParse(environment(PortVariable(s)), out var port) ? port : s.Port);

    public static string PortVariable(ServiceSpec service) => service.Key.ToUpperInvariant() + "_PORT";
}
