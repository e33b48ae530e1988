using System.Diagnostics;

namespace OrderStream.TestSupport;

/// <summary>
/// A private PostgreSQL cluster on a free port. <see cref="Instance"/> is started once per test process and
/// stopped when the process exits; each test class asks it for fresh databases, each with its own login
/// role, so tests never share residue. A test that stops PostgreSQL (an outage) starts its own cluster
/// with <see cref="StartNew"/>, so the other tests' databases stay up. No fallback: if PostgreSQL cannot
/// start, the tests fail with its log.
/// </summary>
public sealed class PostgresServer : IDisposable
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private static readonly Lazy<PostgresServer> Shared = new(() => new PostgresServer());
    public static PostgresServer Instance => Shared.Value;

    private readonly string _dir;
    public int Port { get; }

    private PostgresServer()
    {
        if (!File.Exists($"{Bin}/initdb")) throw new InvalidOperationException($"PostgreSQL 15 is not installed ({Bin}); run deploy/local/test.sh, which installs it.");
        _dir = Directory.CreateTempSubdirectory("orderstream-pg-").FullName;
        Port = Repo.FreePort();
        if (IsRoot) Run("chown", "postgres", _dir);
        RunPg("initdb", "-D", $"{_dir}/data", "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256");
        Start();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Dispose();
    }

    /// <summary>A cluster of its own (not <see cref="Instance"/>), for a test that stops and starts it; dispose it after.</summary>
    public static PostgresServer StartNew() => new();

    /// <summary>Starts the cluster (again, after <see cref="Stop"/>) on the same port and data.</summary>
    public void Start() =>
        RunPg("pg_ctl", "-D", $"{_dir}/data", "-l", $"{_dir}/postgres.log", "-w", "start",
            "-o", $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 -c max_connections=300 -c shared_buffers=256MB");

    /// <summary>Stops the cluster as an outage would: sessions are terminated, new connections refused.</summary>
    public void Stop()
    {
        RunPg("pg_ctl", "-D", $"{_dir}/data", "-m", "fast", "-w", "stop");
        // This process's pooled connections died with the server; without this, the test's next query
        // after the restart would take a dead one from the pool and fail.
        Npgsql.NpgsqlConnection.ClearAllPools();
    }

    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        try { RunPg("pg_ctl", "-D", $"{_dir}/data", "-m", "immediate", "stop"); } catch (InvalidOperationException) { }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static bool IsRoot => Environment.UserName == "root";

    // PostgreSQL refuses to run as root; the Debian package's postgres account runs it then.
    private void RunPg(string tool, params string[] args)
    {
        if (IsRoot) Run("runuser", ["-u", "postgres", "--", $"{Bin}/{tool}", .. args]);
        else Run($"{Bin}/{tool}", args);
    }

    /// <summary>Creates a database owned by a new role that alone may connect to it; returns its connection string.</summary>
    public string CreateDatabase(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        var password = Guid.NewGuid().ToString("N");
        // The same script the local runner and docker-compose use, so tests run with the production privileges.
        RunPg("psql", "-q", "-h", _dir, "-p", Port.ToString(), "-U", "postgres", "-d", "postgres",
            "-v", $"name={name}", "-v", $"password={password}", "-f", Path.Combine(Repo.Root, "deploy", "postgres", "service-database.sql"));
        return $"Host=127.0.0.1;Port={Port};Database={name};Username={name};Password={password};Maximum Pool Size=40";
    }

    private void Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0)
        {
            var log = File.Exists($"{_dir}/postgres.log") ? File.ReadAllText($"{_dir}/postgres.log") : "";
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {stdout.Result}{stderr}\n{log}");
        }
    }
}
