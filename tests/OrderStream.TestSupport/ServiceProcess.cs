using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using OrderStream.Contracts;
using OrderStream.Stack;

namespace OrderStream.TestSupport;

/// <summary>One OrderStream service running as its own process, from its build output, configured only by environment variables.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _output = new();
    private Process? _process;

    public string Name { get; }
    public int Port { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");
    public IReadOnlyDictionary<string, string> Environment { get; }
    private readonly string _dll;

    /// <summary>A key of the kind the retired shared admin key was (new for each test run): tests show it opens nothing.</summary>
    public static readonly string AdminApiKey = "test-" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    /// <summary>
    /// What every test process gets on top of its plan: a short Kafka fetch wait (tests wait for single
    /// messages) and the service's own logs at Information without the framework's request lines.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> TestSettings = new Dictionary<string, string>
    {
        ["Kafka__FetchWaitMaxMs"] = "5",
        ["Logging__LogLevel__Default"] = "Information",
        ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        ["Logging__LogLevel__System.Net.Http"] = "Warning",
    };

    /// <summary>A client for this service's endpoints, sending an admin's token.</summary>
    public HttpClient AdminClient() => new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) }.WithToken(TestIdentity.Admin());

    /// <summary>A client for this service's endpoints, as the user each request is about (<see cref="ActingUserHandler"/>).</summary>
    public HttpClient ActingClient() => new(new ActingUserHandler()) { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>A service (by its directory name under services/) wired to a database and a Kafka cluster, plus any extra settings.</summary>
    public static ServiceProcess Create(string name, string connectionString, string kafkaBootstrap, IEnumerable<KeyValuePair<string, string>>? settings = null)
    {
        var env = new Dictionary<string, string>
        {
            ["ConnectionStrings__Db"] = connectionString,
            ["Kafka__BootstrapServers"] = kafkaBootstrap,
        };
        foreach (var (k, v) in TestIdentity.ServiceSettings.Concat(TestSettings).Concat(settings ?? [])) env[k] = v;
        return new ServiceProcess(name, StackPlan.DllPath(Catalogue.ByName(name), Repo.Root, Repo.Configuration), Repo.FreePort(), env);
    }

    /// <summary>A service as a stack's plan launches it (<see cref="StackPlan"/>).</summary>
    public static ServiceProcess From(ServiceLaunch launch) => new(launch.Name, launch.Dll, launch.Port, launch.Environment);

    private ServiceProcess(string name, string dll, int port, IReadOnlyDictionary<string, string> environment)
    {
        Name = name;
        Port = port;
        Environment = environment;
        _dll = dll;
        if (!File.Exists(_dll)) throw new FileNotFoundException($"Build the solution first: {_dll} is missing");
    }

    /// <summary>A second instance of the same service on another port: same database, Kafka cluster, consumer group and settings.</summary>
    public ServiceProcess Another() => new(Name, _dll, Repo.FreePort(), Environment);

    public async Task StartAsync(TimeSpan? timeout = null, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(_dll);
        psi.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString();
        psi.Environment["DOTNET_ENVIRONMENT"] = psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (k, v) in Environment) psi.Environment[k] = v;
        foreach (var (k, v) in overrides ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        Directory.CreateDirectory(Path.GetDirectoryName(LogFile)!);
        File.AppendAllText(LogFile, $"== {Name} {_dll}\n");
        _output.Clear();
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => Keep(e.Data);
        process.ErrorDataReceived += (_, e) => Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            await Eventually.True(async () =>
            {
                if (process.HasExited) throw new InvalidOperationException($"{Name} exited with {process.ExitCode}");
                try { return (await http.GetAsync("/readyz")).IsSuccessStatusCode; }
                catch (HttpRequestException) { return false; }
            }, timeout ?? TimeSpan.FromSeconds(120), $"{Name} to be ready");
        }
        catch (Exception ex)
        {
            throw new InvalidOperationException($"{Name} did not become ready (log: {LogFile}):\n{RecentOutput()}", ex);
        }
    }

    /// <summary>The running process's id (the last one started).</summary>
    public int ProcessId => _process?.Id ?? throw new InvalidOperationException($"{Name} was never started");

    /// <summary>Whether the last process started has exited (crashed, killed or stopped).</summary>
    public bool HasExited => _process is { HasExited: true };

    /// <summary>Waits for the last process started to exit and returns its exit code (137 after SIGKILL: 128 + 9).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var p = _process ?? throw new InvalidOperationException($"{Name} was never started");
        using var cts = new CancellationTokenSource(timeout);
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { throw new TimeoutException($"{Name} (pid {p.Id}) still running after {timeout.TotalSeconds:0.#} s"); }
        return p.ExitCode;
    }

    /// <summary>SIGTERM: a graceful stop (the consumer leaves its group, offsets are committed).</summary>
    public async Task StopAsync()
    {
        if (_process is not { HasExited: false } p) return;
        kill(p.Id, 15);
        kill(p.Id, SigCont); // a suspended process handles its SIGTERM only once it runs again
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException) { p.Kill(); await p.WaitForExitAsync(); }
    }

    /// <summary>SIGKILL: a crash. Nothing is flushed or committed and the consumer does not leave its group.</summary>
    public async Task KillAsync()
    {
        if (_process is not { HasExited: false } p) return;
        kill(p.Id, 9);
        await p.WaitForExitAsync();
    }

    /// <summary>
    /// SIGSTOP: the process hangs as a whole, as in a stall. Its sockets stay open and the kernel still accepts
    /// connections for it, so a caller sends its request and waits for an answer that does not come until
    /// <see cref="Resume"/>.
    /// </summary>
    public void Suspend() => Signal(SigStop);

    /// <summary>SIGCONT: a suspended process carries on where it stopped.</summary>
    public void Resume() => Signal(SigCont);

    private const int SigStop = 19, SigCont = 18;

    private void Signal(int signal)
    {
        if (_process is not { HasExited: false } p) throw new InvalidOperationException($"{Name} is not running");
        if (kill(p.Id, signal) != 0) throw new InvalidOperationException($"kill({p.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>How many lines of output since the last start contain <paramref name="text"/>.</summary>
    public int CountOutput(string text) => _output.Count(l => l.Contains(text, StringComparison.Ordinal));

    public string RecentOutput() => string.Join('\n', _output.TakeLast(60));

    /// <summary>Where the process's output is kept, for reading after a failed run.</summary>
    public string LogFile { get; } = Path.Combine(Path.GetTempPath(), "orderstream-test-logs", $"{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid():N}"[..24] + ".log");

    private void Keep(string? line)
    {
        if (line is null) return;
        lock (_output) File.AppendAllText(LogFile, line + "\n");
        _output.Enqueue(line);
        while (_output.Count > 20_000) _output.TryDequeue(out _);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
