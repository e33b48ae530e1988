using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderStream.Contracts;
using OrderStream.Messaging;

namespace OrderStream.Hosting.Admin;

/// <summary>
/// <c>/admin/{service}/status</c> (the service's own view of itself) and <c>/admin/{service}/crash</c>
/// (it dies as after <c>kill -9</c>), on every service.
/// </summary>
public static class ServiceStatusEndpoints
{
    internal static void MapStatusAndCrash(this RouteGroupBuilder admin, string service)
    {
        admin.MapGet("/status", (HttpContext context, CancellationToken ct) => ServiceStatusReader.ReadAsync(context.RequestServices, service, ct));
        admin.MapPost("/crash", (HttpContext context, ILoggerFactory logs) =>
        {
            var pid = Environment.ProcessId;
            logs.CreateLogger(typeof(ServiceStatusEndpoints)).LogWarning("Crash requested by an operator: process {ProcessId} kills itself with SIGKILL", pid);
            context.Response.OnCompleted(() =>
            {
                SelfKill.After(TimeSpan.FromMilliseconds(200));
                return Task.CompletedTask;
            });
            return Results.Accepted(value: new CrashAccepted(service, pid));
        });
    }
}

/// <summary>Builds a <see cref="ServiceStatus"/> from the running process; the gateway also reads its own status this way.</summary>
public static class ServiceStatusReader
{
    /// <summary>
    /// A readiness check still running after this counts as not ready: the status must answer within the
    /// gateway's one-second budget, and the Kafka check alone may wait two seconds for a broker that is gone.
    /// </summary>
    private static readonly TimeSpan ReadyBudget = TimeSpan.FromMilliseconds(700);

    private static readonly DateTimeOffset StartedAt = new(Process.GetCurrentProcess().StartTime.ToUniversalTime(), TimeSpan.Zero);

    public static async Task<ServiceStatus> ReadAsync(IServiceProvider services, string service, CancellationToken ct)
    {
        var health = services.GetRequiredService<HealthCheckService>();
        bool ready;
        try
        {
            // As /readyz decides: Degraded (the gateway without Kafka, its outbox holding the events) is still ready.
            var report = await health.CheckHealthAsync(c => c.Tags.Contains("ready"), ct).WaitAsync(ReadyBudget, ct);
            ready = report.Status != HealthStatus.Unhealthy;
        }
        catch (TimeoutException)
        {
            ready = false;
        }

        ConsumerStatus? consumer = null;
        if (services.GetService<ConsumerControl>() is { } control && services.GetService<ConsumerLag>() is { } lag)
        {
            var byTopic = lag.ByTopic;
            consumer = new ConsumerStatus(services.GetRequiredService<IOptions<KafkaOptions>>().Value.GroupId, control.Paused,
                byTopic.Values.Sum(), new SortedDictionary<string, long>(byTopic.ToDictionary(), StringComparer.Ordinal));
        }
        long? outbox = services.GetService<OutboxRelay>()?.Depth;
        return new ServiceStatus(service, ready, consumer, outbox, StartedAt, Environment.ProcessId);
    }
}

/// <summary>The process's own SIGKILL: no shutdown, no flush, no consumer group left, exactly as <c>kill -9</c>.</summary>
internal static class SelfKill
{
    private const int SigKill = 9;

    /// <summary>
    /// Kills the process after <paramref name="grace"/>. OnCompleted runs once the response is handed to
    /// Kestrel's transport, which writes it to the socket on its own thread: the grace lets the 202 reach
    /// the wire before the process is gone.
    /// </summary>
    public static void After(TimeSpan grace) => new Thread(() =>
    {
        Thread.Sleep(grace);
        kill(Environment.ProcessId, SigKill);
    }) { IsBackground = true, Name = "operator crash" }.Start();

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);
}
