using Microsoft.Extensions.Options;
using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.Dashboard.Gateway;
using OrderStream.Dashboard.Hosting;
using OrderStream.Load;

namespace OrderStream.Dashboard.Load;

/// <summary>What the load test form asks for: ramp up from the start rate to the target, hold, ramp down (as deploy/local/load.sh does).</summary>
public sealed record LoadRequest(double StartRate, double TargetRate, int RampSeconds, int HoldSeconds, double DeclineShare)
{
    public const double MaxRate = 2_000;
    public const int MaxSeconds = 3_600;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (StartRate is < 0 or > MaxRate || double.IsNaN(StartRate)) errors.Add($"start rate must be from 0 to {MaxRate}/s");
        if (TargetRate is <= 0 or > MaxRate || double.IsNaN(TargetRate)) errors.Add($"target rate must be above 0 and at most {MaxRate}/s");
        if (RampSeconds is < 0 or > MaxSeconds) errors.Add($"ramp must be from 0 to {MaxSeconds} s");
        if (HoldSeconds is < 1 or > MaxSeconds) errors.Add($"hold must be from 1 to {MaxSeconds} s");
        if (DeclineShare is < 0 or > 1 || double.IsNaN(DeclineShare)) errors.Add("decline share must be from 0 to 1");
        return errors;
    }

    public Scenario Scenario() => new(StartRate,
    [
        new Stage(TimeSpan.FromSeconds(RampSeconds), TargetRate),
        new Stage(TimeSpan.FromSeconds(HoldSeconds), TargetRate),
        new Stage(TimeSpan.FromSeconds(RampSeconds), 0),
    ]);
}

public static class LoadStates
{
    public const string Idle = "idle";
    public const string Running = "running";
    public const string Checking = "checking books";
    public const string Finished = "finished";
    public const string Stopped = "stopped";
}

/// <summary>The books check after a run: the checker's report, or why it did not run.</summary>
public sealed record BooksResult(bool? Passed, string Summary, IReadOnlyList<Finding> Checks);

/// <summary>One load run: what was asked, its live series, and once done its report and books check.</summary>
public sealed class LoadRun(LoadRequest request, LoadOptions options)
{
    public LoadRequest Request { get; } = request;
    public LoadOptions Options { get; } = options;
    public LoadSeries Series { get; } = new();
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
    private volatile string _state = LoadStates.Running;

    /// <summary>One of <see cref="LoadStates"/>; written by the run's task, read by the page's poll.</summary>
    public string State { get => _state; internal set => _state = value; }
    public LoadSnapshot? Last { get; internal set; }
    public LoadReport? Report { get; internal set; }
    public BooksResult? Books { get; internal set; }
    public string? Error { get; internal set; }
    internal CancellationTokenSource Stop { get; } = new();
}

/// <summary>
/// Runs the project's load tool (<see cref="LoadRunner"/>) inside the dashboard against the gateway, one
/// run at a time per process, samples it every second for the charts, and checks the books afterwards
/// with the project's checker when <c>Checker__*</c> is set.
/// </summary>
public sealed class LoadTestService(IOptions<GatewayOptions> gateway, IOptions<CheckerOptions> checker, ILogger<LoadTestService> logger)
{
    private readonly Lock _lock = new();

    /// <summary>The run in progress, or the last one.</summary>
    public LoadRun? Current { get; private set; }

    public bool IsBusy => Current?.State is LoadStates.Running or LoadStates.Checking;

    /// <summary>Starts a run; null with the reason when one is running already or the request is invalid.</summary>
    public (LoadRun? Run, string? Error) Start(LoadRequest request)
    {
        if (request.Validate() is { Count: > 0 } errors) return (null, string.Join("; ", errors));
        // Each load user places and polls as itself (the gateway takes an order's user from its token).
        if (DashboardTokens.For(gateway.Value) is not { } tokens)
            return (null, "The load test acts as many customers and mints their tokens with a local stack's signing key (Gateway__SigningKeyFile), which is not set here: use deploy/local/load.sh or k6 (docs/deploy.md).");
        LoadRun run;
        lock (_lock)
        {
            if (IsBusy) return (null, "A load test is running already (one at a time per dashboard).");
            var options = new LoadOptions(new Uri(gateway.Value.BaseUrl), request.Scenario())
            {
                DeclineShare = request.DeclineShare,
                TokenFor = tokens.Customer,
            };
            run = Current = new LoadRun(request, options);
        }
        _ = Task.Run(() => RunAsync(run));
        return (run, null);
    }

    public void Stop() => Current?.Stop.Cancel();

    private async Task RunAsync(LoadRun run)
    {
        using var http = LoadRunner.CreateClient(run.Options.Gateway);
        var runner = new LoadRunner(run.Options, http);
        logger.LogInformation("Load test started: {Settings}", run.Options.Describe());
        var sampling = SampleAsync(run, runner);
        try
        {
            run.Report = await runner.RunAsync(run.Stop.Token);
        }
        catch (OperationCanceledException) when (run.Stop.IsCancellationRequested)
        {
            // The tool has no report for a run cut short: the counters so far stand in for it.
        }
        catch (Exception ex)
        {
            run.Error = $"{ex.GetType().Name}: {ex.Message}";
            logger.LogError(ex, "Load test failed");
        }
        run.Last = runner.Snapshot();
        run.State = run.Stop.IsCancellationRequested ? LoadStates.Stopped : LoadStates.Checking;
        await sampling;
        if (run.State == LoadStates.Stopped)
        {
            run.Books = new BooksResult(null, "Not checked: the run was stopped while orders were still being placed.", []);
            return;
        }
        run.Books = await CheckBooksAsync();
        run.State = LoadStates.Finished;
        logger.LogInformation("Load test finished; books {Books}", run.Books.Passed switch { true => "passed", false => "FAILED", null => "not checked" });
    }

    private static async Task SampleAsync(LoadRun run, LoadRunner runner)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        while (run.State == LoadStates.Running && await timer.WaitForNextTickAsync())
        {
            var snapshot = runner.Snapshot();
            run.Last = snapshot;
            run.Series.Add(snapshot);
        }
    }

    private async Task<BooksResult> CheckBooksAsync()
    {
        var c = checker.Value;
        if (c.Missing() is { } missing) return new BooksResult(null, $"Books not checked: {missing} (the checker reads the databases and Kafka directly).", []);
        try
        {
            var options = new CheckOptions(c.Databases.ToDictionary(d => d.Key, d => d.Value!)) { KafkaBootstrapServers = c.Kafka };
            // Orders still settling show up as unsent outbox rows and lag: wait for quiet, then read the books.
            var report = await new OrderStreamChecker(options).RunWhenQuietAsync(c.QuietTimeout);
            var state = (report.Quiet ? "quiet" : "NOT quiet: work was in flight") + (report.KafkaChecked ? "" : "; Kafka not checked");
            var t = report.Totals;
            return new BooksResult(report.Passed,
                $"{(report.Passed ? "Passed" : "FAILED")} ({state}): {t.AcceptedOrders} orders accepted, {t.Confirmed} confirmed, {t.Failed} failed, {t.Cancelled} cancelled, {t.Pending} pending",
                report.Checks);
        }
        catch (Exception ex)
        {
            return new BooksResult(false, $"The check could not run: {ex.GetType().Name}: {ex.Message}", []);
        }
    }
}
