using System.Diagnostics;
using Testcontainers.PostgreSql;

namespace OrderStream.TestSupport;

/// <summary>
/// A PostgreSQL 15 server: a private cluster on a free port, or a container (see <see cref="TestInfra"/>).
/// <see cref="Instance"/> is started once per test process and stopped when the process exits; each test
/// class asks it for fresh databases, each with its own login role, so tests never share residue. A test
/// that stops PostgreSQL (an outage) starts its own server with <see cref="StartNew"/>, so the other tests'
/// databases stay up. No fallback: if PostgreSQL cannot start, the tests fail with its log.
/// </summary>
public abstract class PostgresServer : IDisposable
{
    protected const string Superuser = "postgres";

    /// <summary>The script the local runner and docker-compose create a service's database and role with; both modes run it.</summary>
    public static readonly string DatabaseScript = Path.Combine(Repo.Root, "deploy", "postgres", "service-database.sql");

    /// <summary>Server settings of both modes (one test process's services need more than the default 100 connections).</summary>
    public static readonly IReadOnlyList<string> Settings = ["max_connections=300", "shared_buffers=256MB"];

    private static readonly Lazy<PostgresServer> Shared = new(StartNew);
    public static PostgresServer Instance => Shared.Value;

    /// <summary>A server of its own (not <see cref="Instance"/>), for a test that stops and starts it; dispose it after.</summary>
    public static PostgresServer StartNew()
    {
        PostgresServer server = TestInfra.Mode switch
        {
            TestInfraMode.Containers => new PostgresContainerServer(),
            _ => new LocalPostgresServer(),
        };
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();
        return server;
    }

    public abstract string Host { get; }
    public abstract int Port { get; }

    /// <summary>The database script's path as the server's psql sees it.</summary>
    protected abstract string ScriptPath { get; }

    /// <summary>Runs psql as the superuser next to the server; throws with its output if it fails.</summary>
    protected abstract void Psql(params string[] args);

    /// <summary>Starts the server (again, after <see cref="Stop"/>) on the same port and data.</summary>
    public abstract void Start();

    protected abstract void Shutdown();

    /// <summary>Stops the server as an outage would: sessions are terminated, new connections refused.</summary>
    public void Stop()
    {
        Shutdown();
        // This process's pooled connections died with the server; without this, the test's next query
        // after the restart would take a dead one from the pool and fail.
        Npgsql.NpgsqlConnection.ClearAllPools();
    }

    /// <summary>Creates a database owned by a new role that alone may connect to it; returns its connection string.</summary>
    public string CreateDatabase(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)].ToLowerInvariant();
        var password = Guid.NewGuid().ToString("N");
        // The production script, so tests run with the production privileges.
        Psql("-q", "-d", "postgres", "-v", $"name={name}", "-v", $"password={password}", "-f", ScriptPath);
        return $"Host={Host};Port={Port};Database={name};Username={name};Password={password};Maximum Pool Size=40";
    }

    private int _disposed;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) Release();
    }

    /// <summary>Stops the server for good and deletes its data.</summary>
    protected abstract void Release();
}

/// <summary>A private cluster of the installed PostgreSQL 15, in a temporary directory.</summary>
public sealed class LocalPostgresServer : PostgresServer
{
    private const string Bin = "/usr/lib/postgresql/15/bin";
    private readonly string _dir;

    public override string Host => "127.0.0.1";
    public override int Port { get; } = Repo.FreePort();
    protected override string ScriptPath => DatabaseScript;

    public LocalPostgresServer()
    {
        if (!File.Exists($"{Bin}/initdb")) throw new InvalidOperationException($"PostgreSQL 15 is not installed ({Bin}); run deploy/local/test.sh, which installs it.");
        _dir = Directory.CreateTempSubdirectory("orderstream-pg-").FullName;
        if (IsRoot) Run("chown", Superuser, _dir);
        RunPg("initdb", "-D", $"{_dir}/data", "-U", Superuser, "--auth-local=trust", "--auth-host=scram-sha-256");
        Start();
    }

    public override void Start() =>
        RunPg("pg_ctl", "-D", $"{_dir}/data", "-l", $"{_dir}/postgres.log", "-w", "start",
            "-o", $"-p {Port} -k {_dir} -c listen_addresses=127.0.0.1 " + string.Join(' ', Settings.Select(s => $"-c {s}")));

    protected override void Shutdown() => RunPg("pg_ctl", "-D", $"{_dir}/data", "-m", "fast", "-w", "stop");

    protected override void Psql(params string[] args) => RunPg("psql", ["-h", _dir, "-p", Port.ToString(), "-U", Superuser, .. args]);

    protected override void Release()
    {
        try { RunPg("pg_ctl", "-D", $"{_dir}/data", "-m", "immediate", "stop"); } catch (InvalidOperationException) { }
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private static bool IsRoot => Environment.UserName == "root";

    // PostgreSQL refuses to run as root; the Debian package's postgres account runs it then.
    private void RunPg(string tool, params string[] args)
    {
        if (IsRoot) Run("runuser", ["-u", Superuser, "--", $"{Bin}/{tool}", .. args]);
        else Run($"{Bin}/{tool}", args);
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

/// <summary>PostgreSQL in a container of docker-compose's image, with the database script copied in.</summary>
public sealed class PostgresContainerServer : PostgresServer
{
    public const string ScriptInContainer = "/orderstream/service-database.sql";
    private readonly PostgreSqlContainer _container;

    public override string Host => _container.Hostname;
    public override int Port { get; } = Repo.FreePort();
    protected override string ScriptPath => ScriptInContainer;

    public PostgresContainerServer() => _container = TestInfra.Start(() => Builder(Port).Build());

    /// <summary>The container as configured (building it needs Docker; the configuration does not).</summary>
    public static PostgreSqlBuilder Builder(int hostPort) =>
        new PostgreSqlBuilder(ContainerImages.Postgres)
            .WithUsername(Superuser)
            // A fixed host port, not a random one: after Stop and Start the services' connection strings still hold.
            .WithPortBinding(hostPort, PostgreSqlBuilder.PostgreSqlPort)
            .WithCommand(Settings.SelectMany(s => new[] { "-c", s }).ToArray())
            .WithResourceMapping(new FileInfo(DatabaseScript), new FileInfo(ScriptInContainer));

    // docker stop sends the image's stop signal, SIGINT: PostgreSQL's fast shutdown, as pg_ctl -m fast.
    // The data is on the container's volume, so Start brings the same databases back.
    public override void Start() => _container.StartAsync().GetAwaiter().GetResult();
    protected override void Shutdown() => _container.StopAsync().GetAwaiter().GetResult();

    protected override void Psql(params string[] args)
    {
        var result = _container.ExecAsync(["psql", "-U", Superuser, .. args]).GetAwaiter().GetResult();
        if (result.ExitCode != 0) throw new InvalidOperationException($"psql {string.Join(' ', args)} failed ({result.ExitCode}): {result.Stdout}{result.Stderr}");
    }

    protected override void Release() => _container.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
