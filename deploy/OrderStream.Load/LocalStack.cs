using Confluent.Kafka;
using Npgsql;
using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.Stack;

namespace OrderStream.Load;

/// <summary>
/// A stack started by deploy/local/run.sh, as the benchmark measures it: its state directory
/// (<see cref="LocalStackState"/>) and its processes' CPU time and settings, read from /proc, so what
/// the benchmark reports is what actually ran.
/// </summary>
public sealed class LocalStack(string stateDir)
{
    /// <summary>The saga services, whose CPU and settings the benchmark reports (the dashboard is idle during a run).</summary>
    public static readonly string[] Services = [.. Catalogue.SagaServices.Select(s => s.Name)];

    public LocalStackState State { get; } = new(stateDir);

    public string KafkaBootstrap => State.KafkaBootstrap;

    public CheckOptions CheckOptions => State.CheckOptions;

    private int? Pid(string name) => State.Pid(name);

    /// <summary>The processes to measure, by name; PostgreSQL is the postmaster and every backend under it.</summary>
    public IReadOnlyDictionary<string, int[]> Processes()
    {
        var groups = new Dictionary<string, int[]>();
        foreach (var name in Services.Append("kafka").Append("redis"))
            if (Pid(name) is { } pid) groups[name switch { "kafka" => "embedded kafka", "redis" => "redis-server", _ => name }] = [pid];
        var postmasterFile = Path.Combine(stateDir, "pg", "postmaster.pid");
        if (File.Exists(postmasterFile) && int.TryParse(File.ReadLines(postmasterFile).First(), out var postmaster))
            groups["postgresql"] = [postmaster, .. ProcFs.ChildrenOf(postmaster)];
        groups["load tool"] = [Environment.ProcessId];
        return groups;
    }

    /// <summary>The settings each service runs with: its Kafka__*, Outbox__*, GC, thread-pool and pool settings as seen in its environment.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> ServiceSettings()
    {
        var result = new Dictionary<string, IReadOnlyList<string>>();
        foreach (var service in Services)
        {
            if (Pid(service) is not { } pid) continue;
            result[service] = ProcFs.Environment(pid)
                .Where(kv => kv.Key.StartsWith("Kafka__", StringComparison.Ordinal) && kv.Key != "Kafka__BootstrapServers"
                             || kv.Key.StartsWith("Outbox__", StringComparison.Ordinal)
                             || kv.Key.StartsWith("Payment__", StringComparison.Ordinal)
                             || kv.Key.StartsWith("DOTNET_gc", StringComparison.OrdinalIgnoreCase) || kv.Key.StartsWith("DOTNET_ThreadPool", StringComparison.Ordinal))
                .Select(kv => $"{kv.Key}={kv.Value}")
                .Concat(ProcFs.Environment(pid).TryGetValue("ConnectionStrings__Db", out var cs)
                    ? [$"pool: Maximum Pool Size={new NpgsqlConnectionStringBuilder(cs).MaxPoolSize}"]
                    : [])
                .Order(StringComparer.Ordinal)
                .ToList();
        }
        return result;
    }

    /// <summary>
    /// How the kernel shares the CPU among the processes. With autogroups on, each session gets an equal
    /// share whatever its number of threads; the services share the session of the shell that started them,
    /// while PostgreSQL puts every backend in a session of its own. Giving the benchmark's session priority
    /// (<c>echo -19 > /proc/self/autogroup</c>, as runs A to H did) therefore starves PostgreSQL (eighth round).
    /// </summary>
    public string Scheduling()
    {
        const string Switch = "/proc/sys/kernel/sched_autogroup_enabled";
        if (!File.Exists(Switch) || File.ReadAllText(Switch).Trim() != "1") return "kernel autogroups off";
        var sessions = Processes()
            .SelectMany(p => p.Value.Select(pid => (Name: p.Key, Group: ProcFs.Autogroup(pid))))
            .Where(m => m.Group is not null)
            .GroupBy(m => m.Group!.Value.Id)
            .ToLookup(s => s.All(m => m.Name == "postgresql"));
        var parts = sessions[false].Select(s => $"{string.Join(", ", s.Select(m => m.Name).Distinct())} (nice {s.First().Group!.Value.Nice})").ToList();
        var postgres = sessions[true].ToList();
        if (postgres.Count > 0)
            parts.Add($"postgresql {postgres.Sum(s => s.Count())} processes in {postgres.Count} sessions (nice {string.Join("/", postgres.Select(s => s.First().Group!.Value.Nice).Distinct())})");
        return "kernel autogroups, one equal share per session: " + string.Join("; ", parts);
    }

    public async Task<IReadOnlyList<(string Name, string Value)>> PostgresSettingsAsync(CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(State.ConnectionStrings[Catalogue.ApiGateway.Database!]);
        await conn.OpenAsync(ct);
        var settings = new List<(string, string)>();
        foreach (var name in new[] { "server_version", "synchronous_commit", "fsync", "wal_sync_method", "max_connections", "shared_buffers", "wal_buffers", "max_wal_size", "checkpoint_timeout", "random_page_cost", "effective_cache_size", "commit_delay" })
        {
            await using var cmd = new NpgsqlCommand($"SHOW {name}", conn);
            settings.Add((name, (string)(await cmd.ExecuteScalarAsync(ct))!));
        }
        return settings;
    }

    public int TopicPartitions(string topic)
    {
        OrderStream.Messaging.KafkaNativeLibrary.Use(); // this process's first client may be this one
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = KafkaBootstrap }).Build();
        return admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Count;
    }
}

/// <summary>The little of /proc the benchmark needs (Linux only, like the rest of deploy/local).</summary>
public static class ProcFs
{
    private static readonly double TicksPerSecond = 100; // USER_HZ: 100 on every Linux this runs on

    /// <summary>
    /// CPU seconds (user + system) a process has used so far, threads included, plus that of its children
    /// that have exited (so a PostgreSQL backend that ends between two readings still counts, through the
    /// postmaster); 0 once it is gone.
    /// </summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // Fields after the ")" that ends the command name: state is field 3, utime 14, stime 15,
            // cutime 16, cstime 17 (waited-for children).
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11]) + long.Parse(fields[12]) + long.Parse(fields[13]) + long.Parse(fields[14])) / TicksPerSecond;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return 0;
        }
    }

    /// <summary>Busy and total CPU seconds of the whole machine (all cores), from /proc/stat.</summary>
    public static (double Busy, double Total) MachineCpuSeconds()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
        var idle = fields[3] + fields[4];
        var total = fields.Sum();
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }

    public static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (int.TryParse(fields[1], out var ppid) && ppid == parent) yield return pid;
        }
    }

    public static IReadOnlyDictionary<string, string> Environment(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
                .Select(e => e.Split('=', 2)).Where(p => p.Length == 2)
                .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new Dictionary<string, string>();
        }
    }

    /// <summary>The kernel autogroup (the session's scheduling group) of a process and its nice value; null if not readable.</summary>
    public static (string Id, int Nice)? Autogroup(int pid)
    {
        try
        {
            // "/autogroup-230747 nice 0"
            var fields = File.ReadAllText($"/proc/{pid}/autogroup").Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields is [var id, "nice", var nice] && int.TryParse(nice, out var n) ? (id, n) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static string CpuModel() =>
        File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
}

/// <summary>CPU used by each process group between <see cref="Start"/> and <see cref="Stop"/>, in cores.</summary>
public sealed class CpuSampler(Func<IReadOnlyDictionary<string, int[]>> processes)
{
    private Dictionary<string, double> _start = new();
    private (double Busy, double Total) _machineStart;
    private DateTime _startedAt;

    public void Start()
    {
        _start = Snapshot();
        _machineStart = ProcFs.MachineCpuSeconds();
        _startedAt = DateTime.UtcNow;
    }

    /// <summary>Average cores used per group (1.0 = one core busy), and the machine's busy share of all cores.</summary>
    public CpuUsage Stop()
    {
        var end = Snapshot();
        var machine = ProcFs.MachineCpuSeconds();
        var seconds = (DateTime.UtcNow - _startedAt).TotalSeconds;
        var cores = end.ToDictionary(e => e.Key, e => Math.Max(0, e.Value - _start.GetValueOrDefault(e.Key)) / seconds);
        var busy = (machine.Busy - _machineStart.Busy) / Math.Max(0.001, machine.Total - _machineStart.Total);
        return new CpuUsage(cores, busy);
    }

    // Backends come and go, so the group's members are re-read each time; one that exited in between
    // is counted in its parent's children time (CpuSeconds).
    private Dictionary<string, double> Snapshot() =>
        processes().ToDictionary(p => p.Key, p => p.Value.Sum(ProcFs.CpuSeconds));
}

public sealed record CpuUsage(IReadOnlyDictionary<string, double> CoresByProcess, double MachineBusyShare);
