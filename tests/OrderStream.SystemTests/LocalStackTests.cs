using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

/// <summary>
/// deploy/local/run.sh's supervision, on a stack of its own (private state directory and ports, built
/// solution): a crashed service comes back and its orders settle, the embedded Kafka cluster dying stops
/// everything, and <c>run.sh stop</c> leaves no process behind.
/// </summary>
public sealed class LocalStackTests
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_payment_killed_with_SIGKILL_is_restarted_and_the_orders_placed_meanwhile_settle()
    {
        await using var stack = await LocalStack.StartAsync();
        var killed = stack.Pid("payment");
        Assert.Equal(0, kill(killed, 9));
        // Placed while payment is down or coming back: they wait in Kafka and settle once it is.
        var during = new List<Guid>();
        for (var i = 0; i < 3; i++) during.Add(await stack.PlaceAsync("while-down-" + i));

        var restarted = await Eventually.Get<int?>(async () =>
        {
            var pid = stack.Pid("payment");
            if (pid == killed || !Alive(pid)) return null;
            return (await stack.Http.GetAsync($"http://127.0.0.1:{stack.Ports["PAYMENT_PORT"]}/readyz")).IsSuccessStatusCode ? pid : null;
        }, TimeSpan.FromSeconds(90), "payment to be restarted and ready", TimeSpan.FromMilliseconds(200));
        Assert.False(Alive(killed));
        Assert.Contains("payment exited (code 137); restarting in 1s", stack.SupervisorLog());

        var after = await stack.PlaceAsync("after-restart");
        foreach (var id in during.Append(after))
            Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(id)).Status);

        // The new payment process is the one in the pid file, and stop ends it and everything else.
        Assert.Equal(restarted, stack.Pid("payment"));
        var processes = stack.AllPids();
        await stack.StopAsync();
        Assert.DoesNotContain(processes, Alive);
        Assert.Empty(stack.ProcessesOfState());
    }

    [Fact]
    public async Task The_embedded_Kafka_cluster_dying_stops_the_whole_stack_with_a_message()
    {
        await using var stack = await LocalStack.StartAsync();
        var processes = stack.AllPids();
        Assert.Equal(0, kill(stack.Pid("kafka"), 9));

        await Eventually.True(() => Task.FromResult(!processes.Any(Alive) && stack.SupervisorLog().Contains("Stopped.")),
            TimeSpan.FromSeconds(60), "every process of the stack to stop");
        Assert.Contains("The embedded Kafka cluster exited (its events were in memory only): stopping the whole stack", stack.SupervisorLog());
        Assert.DoesNotContain("restarting", stack.SupervisorLog());
        Assert.Empty(stack.ProcessesOfState());
    }

    private static bool Alive(int pid)
    {
        // A zombie has exited; only its parent has not collected it yet.
        try { return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].StartsWith('Z'); }
        catch (IOException) { return false; }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    /// <summary>One <c>run.sh start</c> stack, without a build, a trace viewer or the dashboard, on free ports.</summary>
    private sealed class LocalStack : IAsyncDisposable
    {
        private static readonly string Script = Path.Combine(Repo.Root, "deploy", "local", "run.sh");
        private static readonly string[] PortNames =
            ["PG_PORT", "REDIS_PORT", "GATEWAY_PORT", "INVENTORY_PORT", "PAYMENT_PORT", "MATERIALIZER_PORT", "DASHBOARD_PORT",
             "TRACE_VIEWER_PORT", "TRACE_VIEWER_OTLP_GRPC_PORT", "TRACE_VIEWER_OTLP_HTTP_PORT"];

        public string State { get; } = Path.Combine(Path.GetTempPath(), "orderstream-localstack-" + Guid.NewGuid().ToString("N")[..8]);
        public Dictionary<string, int> Ports { get; } = PortNames.ToDictionary(p => p, _ => Repo.FreePort());
        public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromSeconds(10) };
        private bool _stopped;

        public static async Task<LocalStack> StartAsync()
        {
            var stack = new LocalStack();
            var (code, output) = await stack.RunAsync("start", TimeSpan.FromMinutes(4));
            if (code != 0)
            {
                await stack.DisposeAsync();
                throw new InvalidOperationException($"run.sh start exited {code}:\n{output}");
            }
            Assert.Contains($"Gateway:        http://127.0.0.1:{stack.Ports["GATEWAY_PORT"]}", output);
            return stack;
        }

        public Task StopAsync()
        {
            _stopped = true;
            return RunAsync("stop", TimeSpan.FromMinutes(1));
        }

        private async Task<(int Code, string Output)> RunAsync(string command, TimeSpan timeout)
        {
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
            psi.ArgumentList.Add(Script);
            psi.ArgumentList.Add(command);
            psi.Environment["ORDERSTREAM_STATE"] = State;
            psi.Environment["ORDERSTREAM_SKIP_BUILD"] = "1";
            psi.Environment["CONFIGURATION"] = Repo.Configuration;
            psi.Environment["TRACE_VIEWER"] = "off";
            psi.Environment["SEED_SKUS"] = "1";
            psi.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
            foreach (var (name, port) in Ports) psi.Environment[name] = port.ToString();
            using var process = Process.Start(psi)!;
            process.StandardInput.Close();
            // Both streams to their end: 'start' returns only once nothing it left running holds them.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var cts = new CancellationTokenSource(timeout);
            try { await process.WaitForExitAsync(cts.Token); }
            catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw new TimeoutException($"run.sh {command} still running after {timeout}"); }
            return (process.ExitCode, await stdout + await stderr);
        }

        public int Pid(string name) => int.Parse(File.ReadAllText(Path.Combine(State, name + ".pid")).Trim());

        /// <summary>Every process the stack runs now: services, redis, Kafka, supervisors, the watchdog and PostgreSQL.</summary>
        public List<int> AllPids() =>
            [.. Directory.GetFiles(State, "*.pid").Concat(Directory.GetFiles(Path.Combine(State, "supervisors"), "*.pid"))
                .Select(f => int.Parse(File.ReadAllText(f).Trim())),
             int.Parse(File.ReadLines(Path.Combine(State, "pg", "postmaster.pid")).First())];

        /// <summary>Processes whose command line names the state directory (PostgreSQL's and anything started from it).</summary>
        public List<string> ProcessesOfState() =>
            [.. Directory.GetDirectories("/proc").Where(d => int.TryParse(Path.GetFileName(d), out _)).Select(d =>
            {
                try { return File.ReadAllText(Path.Combine(d, "cmdline")).Replace('\0', ' '); }
                catch (IOException) { return ""; }
                catch (UnauthorizedAccessException) { return ""; }
            }).Where(c => c.Contains(State, StringComparison.Ordinal))];

        public string SupervisorLog()
        {
            var path = Path.Combine(State, "supervisor.log");
            return File.Exists(path) ? File.ReadAllText(path) : "";
        }

        /// <summary>A token of this stack (signed with the key pair run.sh made under its state directory).</summary>
        public string Token(string user, params string[] roles) => new OrderStream.Stack.LocalStackState(State).Identity.Issue(user, roles, TimeSpan.FromHours(1));

        public async Task<Guid> PlaceAsync(string userId)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{Ports["GATEWAY_PORT"]}/orders")
            {
                Content = JsonContent.Create(Orders.Body(userId, ("SKU-001", 1, 1.00m))),
            };
            request.Headers.Authorization = new("Bearer", Token(userId, "customer"));
            var response = await Http.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return (await response.Content.ReadFromJsonAsync<Orders.Accepted>())!.OrderId;
        }

        public Task<OrderView> WaitSettledAsync(Guid id) =>
            Eventually.Get(async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{Ports["GATEWAY_PORT"]}/orders/{id}");
                request.Headers.Authorization = new("Bearer", Token("localstack-admin", "admin"));
                var response = await Http.SendAsync(request);
                return response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<OrderView>(EventJson.Options) : null;
            }, Settle, $"order {id} to settle", TimeSpan.FromMilliseconds(200));

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            try
            {
                if (!_stopped) await StopAsync();
            }
            finally
            {
                try { Directory.Delete(State, recursive: true); }
                catch (IOException) { }
                catch (UnauthorizedAccessException) { }
            }
        }
    }
}
