using System.Globalization;
using System.Text;
using OrderStream.Checker;

namespace OrderStream.Load;

/// <summary>Benchmark settings: the shape of every step and the rates the search climbs through.</summary>
public sealed record BenchmarkOptions(Uri Gateway, string StateDir, string Output)
{
    public TimeSpan Hold { get; init; } = TimeSpan.FromSeconds(20);
    public TimeSpan Ramp { get; init; } = TimeSpan.FromSeconds(3);
    public IReadOnlyList<double> Rates { get; init; } = [25, 50, 100, 150, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 2500, 3000];
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(50);
    public double DeclineShare { get; init; } = 0.05;
    public double HotShare { get; init; } = 0.9;
    public int Skus { get; init; } = 10;

    /// <summary>Sustainable: errors and unsettled orders below this share of those scheduled...</summary>
    public double MaxFailureShare { get; init; } = 0.001;
    /// <summary>...time-to-settle p95 below this...</summary>
    public TimeSpan MaxSettleP95 { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>...and the gateway kept up with the arrivals (accepted at least this share of the offered rate).</summary>
    public double MinAchievedShare { get; init; } = 0.97;
}

/// <summary>One measured scenario: the load tool's report, CPU per process, and the books checked afterwards.</summary>
public sealed record BenchmarkStep(string Name, double Rate, double HotShare, LoadReport Report, CpuUsage Cpu, bool CheckPassed, string CheckSummary, bool Sustainable);

/// <summary>
/// The benchmark of issue 7: climbs a ladder of arrival rates to the highest one the saga sustains,
/// then measures latency at 25/50/75 % of it and at 250 orders/s, a hot-SKU scenario and the load
/// tool's own ceiling, checking the books after every step, and writes the results as Markdown.
/// </summary>
public sealed class Benchmark(BenchmarkOptions options, LocalStack stack, TextWriter log)
{
    private readonly List<BenchmarkStep> _steps = [];

    // Each load user places and polls its orders with its own customer token, minted with the stack's key
    // (kept for the whole benchmark: minting costs CPU the stack is being measured on).
    private Func<string, string>? _tokens;
    private Func<string, string> Tokens => _tokens ??= stack.State.Identity.CustomerTokens(TimeSpan.FromHours(12));

    public async Task<int> RunAsync(CancellationToken ct)
    {
        using var http = LoadRunner.CreateClient(options.Gateway);
        log.WriteLine($"Benchmark against {options.Gateway} ({Environment.ProcessorCount} cores); results go to {options.Output}");

        // JIT, pools and caches warm up here, gently first: a cold service is slow, and a backlog at the
        // start brings a storm of polls that keeps it slow. Then a while at a real rate, so the hot paths
        // reach fully optimized code (tiered JIT) before anything is measured. Checked, not reported.
        await StepAsync(http, "warm-up", 20, 0, TimeSpan.FromSeconds(15), ct);
        await StepAsync(http, "warm-up", 100, 0, TimeSpan.FromSeconds(20), ct);
        _steps.Clear();

        BenchmarkStep? best = null;
        foreach (var rate in options.Rates)
        {
            var step = await StepAsync(http, $"ladder {rate}/s", rate, 0, options.Hold, ct);
            if (!step.Sustainable) break;
            best = step;
        }
        if (best is null)
        {
            log.WriteLine("Not even the lowest rate of the ladder was sustainable.");
            await WriteAsync(null, null, ct);
            return 1;
        }

        // One refinement between the last rate that held and the first that did not.
        var next = options.Rates.FirstOrDefault(r => r > best.Rate);
        if (next > 0)
        {
            var middle = Math.Round((best.Rate + next) / 2 / 10) * 10;
            if (middle > best.Rate && middle < next && await StepAsync(http, $"ladder {middle}/s", middle, 0, options.Hold, ct) is { Sustainable: true } refined)
                best = refined;
        }

        var max = best.Rate;
        foreach (var share in new[] { 0.25, 0.5, 0.75 })
            await StepAsync(http, $"{share:P0} of max", Math.Round(max * share), 0, options.Hold, ct);
        if (max >= 250) await StepAsync(http, "target 250/s", 250, 0, options.Hold, ct);
        await StepAsync(http, $"hot SKU ({options.HotShare:P0} on SKU-001)", Math.Round(max * 0.5), options.HotShare, options.Hold, ct);
        var ceiling = await ToolCeilingAsync(Math.Max(2_000, max * 2), ct);

        await WriteAsync(best, ceiling, ct);
        return _steps.All(s => s.CheckPassed) ? 0 : 1;
    }

    private async Task<BenchmarkStep> StepAsync(HttpClient http, string name, double rate, double hot, TimeSpan hold, CancellationToken ct)
    {
        var scenario = new Scenario(Math.Max(1, rate / 10), [new Stage(options.Ramp, rate), new Stage(hold, rate)]);
        var load = new LoadOptions(options.Gateway, scenario)
        {
            Skus = options.Skus, MaxQty = 3, HotShare = hot, DeclineShare = options.DeclineShare,
            FirstPoll = options.PollInterval, PollInterval = options.PollInterval, SettleTimeout = TimeSpan.FromSeconds(30),
            TokenFor = Tokens,
        };
        log.WriteLine($"\n== {name}: {load.Describe()}");
        var cpu = new CpuSampler(stack.Processes);
        cpu.Start();
        var report = await new LoadRunner(load, http).RunAsync(ct);
        var usage = cpu.Stop();
        log.WriteLine(report);
        log.WriteLine("cpu         " + string.Join(", ", usage.CoresByProcess.OrderByDescending(c => c.Value).Select(c => $"{c.Key} {c.Value:0.00}")) + $"; machine busy {usage.MachineBusyShare:P0}");

        var check = await new OrderStreamChecker(stack.CheckOptions).RunWhenQuietAsync(TimeSpan.FromSeconds(120), ct);
        var failed = check.Failures.Select(c => $"{c.Name} {c.Count}").ToList();
        var summary = check.Passed ? "passed" : "FAILED: " + string.Join(", ", failed);
        log.WriteLine($"check       {summary}");

        var failures = report.ErrorCount + report.Unsettled + report.Dropped;
        var sustainable = check.Passed
            && failures <= options.MaxFailureShare * report.Scheduled
            && report.SettleMs.P95 < options.MaxSettleP95.TotalMilliseconds
            && report.AchievedRate >= options.MinAchievedShare * report.OfferedRate;
        var step = new BenchmarkStep(name, rate, hot, report, usage, check.Passed, summary, sustainable);
        _steps.Add(step);
        return step;
    }

    private async Task<LoadReport> ToolCeilingAsync(double rate, CancellationToken ct)
    {
        var port = options.Gateway.Port + 1_000;
        var target = new Uri($"http://127.0.0.1:{port}");
        await using var server = await TrivialServer.StartAsync(port);
        using var http = LoadRunner.CreateClient(target);
        var load = new LoadOptions(target, new Scenario(rate / 10, [new Stage(options.Ramp, rate), new Stage(TimeSpan.FromSeconds(10), rate)]))
        {
            FirstPoll = options.PollInterval, PollInterval = options.PollInterval,
        };
        log.WriteLine($"\n== load tool ceiling (trivial in-process server): {load.Describe()}");
        var report = await new LoadRunner(load, http).RunAsync(ct);
        log.WriteLine(report);
        return report;
    }

    private async Task WriteAsync(BenchmarkStep? best, LoadReport? ceiling, CancellationToken ct)
    {
        var md = new StringBuilder();
        var inv = CultureInfo.InvariantCulture;
        string F(double v, string format = "0") => v.ToString(format, inv);

        md.AppendLine("# Benchmarks");
        md.AppendLine();
        md.AppendLine("Generated by `deploy/local/benchmark.sh` (do not edit by hand; rerun it). What the figures mean and");
        md.AppendLine("where the time goes: [performance.md](performance.md).");
        md.AppendLine();
        md.AppendLine($"- Run: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, commit `{GitCommit()}`");
        md.AppendLine($"- Machine: {Environment.ProcessorCount} cores ({ProcFs.CpuModel()}), {F(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1024.0 * 1024 * 1024), "0")} GiB; " +
                      "PostgreSQL, Redis, the embedded Kafka cluster, the four services and the load tool all share it");
        md.AppendLine($"- Load: open model (arrivals do not wait for earlier orders), each step {F(options.Ramp.TotalSeconds)} s ramp + {F(options.Hold.TotalSeconds)} s hold; " +
                      $"{options.Skus} SKUs, 1-3 units per order, {options.DeclineShare:P0} of orders from users payment declines; " +
                      $"every order polled with GET every {F(options.PollInterval.TotalMilliseconds)} ms (first poll after {F(options.PollInterval.TotalMilliseconds)} ms) until it settles; " +
                      "before the first step, an unreported warm-up of 15 s at 20/s and 20 s at 100/s (JIT, pools)");
        md.AppendLine($"- Sustainable means: errors + unsettled < {options.MaxFailureShare:P1} of orders, time-to-settle p95 < {F(options.MaxSettleP95.TotalMilliseconds)} ms, " +
                      $"accepted ≥ {options.MinAchievedShare:P0} of the offered rate, and the checker passes afterwards");
        md.AppendLine();

        md.AppendLine("## Result");
        md.AppendLine();
        if (best is null)
            md.AppendLine("No rate of the ladder was sustainable.");
        else
        {
            md.AppendLine($"**Maximum sustainable rate: {F(best.Rate)} orders/s offered, {F(best.Report.SettledRate)} settled sagas/s** " +
                          $"(POST p99 {F(best.Report.PostLatencyMs.P99, "0.0")} ms, time-to-settle p95 {F(best.Report.SettleMs.P95)} ms).");
            if (_steps.FirstOrDefault(s => s.Name == "target 250/s") is { } target)
                md.AppendLine($"At 250 orders/s: POST p99 {F(target.Report.PostLatencyMs.P99, "0.0")} ms, time-to-settle p95 {F(target.Report.SettleMs.P95)} ms.");
        }
        md.AppendLine();

        md.AppendLine("## Scenarios");
        md.AppendLine();
        md.AppendLine("| scenario | offered/s | accepted/s | settled sagas/s | POST p50 / p95 / p99 / max ms | settle p50 / p95 / p99 / max ms | errors | unsettled | outcomes | sustainable | check |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var s in _steps)
        {
            var r = s.Report;
            md.AppendLine($"| {s.Name} | {F(r.OfferedRate)} | {F(r.AchievedRate)} | {F(r.SettledRate)} | " +
                          $"{F(r.PostLatencyMs.P50, "0.0")} / {F(r.PostLatencyMs.P95, "0.0")} / {F(r.PostLatencyMs.P99, "0.0")} / {F(r.PostLatencyMs.Max)} | " +
                          $"{F(r.SettleMs.P50)} / {F(r.SettleMs.P95)} / {F(r.SettleMs.P99)} / {F(r.SettleMs.Max)} | " +
                          $"{r.ErrorCount + r.Dropped} | {r.Unsettled} | {string.Join(", ", r.Outcomes.OrderByDescending(o => o.Value).Select(o => $"{o.Key} {o.Value}"))} | " +
                          $"{(s.Sustainable ? "yes" : "no")} | {s.CheckSummary} |");
        }
        md.AppendLine();
        md.AppendLine("Time-to-settle is when the tool saw the order settled. The gateway holds a poll of a pending order until the order settles (up to `Gateway__PollWait`, 1 s), so a poll in flight sees it at once; an order that settles between two polls is seen on the next one.");
        md.AppendLine();

        var peak = best ?? _steps.LastOrDefault();
        if (peak is not null)
        {
            md.AppendLine($"## CPU per process at the peak ({peak.Name})");
            md.AppendLine();
            md.AppendLine("Average cores busy over the step (1.00 = one core all the time; the machine has " + Environment.ProcessorCount + ").");
            md.AppendLine();
            md.AppendLine("| process | cores | share of the machine |");
            md.AppendLine("|---|---|---|");
            foreach (var (process, cores) in peak.Cpu.CoresByProcess.OrderByDescending(c => c.Value))
                md.AppendLine($"| {process} | {F(cores, "0.00")} | {cores / Environment.ProcessorCount:P0} |");
            md.AppendLine($"| (whole machine busy) | {F(peak.Cpu.MachineBusyShare * Environment.ProcessorCount, "0.00")} | {peak.Cpu.MachineBusyShare:P0} |");
            md.AppendLine();
            var top = peak.Cpu.CoresByProcess.OrderByDescending(c => c.Value).First();
            md.AppendLine($"Bottleneck: the machine's CPU ({peak.Cpu.MachineBusyShare:P0} busy at the peak); the largest single consumer is {top.Key} " +
                          $"({F(top.Value, "0.00")} cores). The next rung of the ladder failed on " +
                          $"{DescribeFailure(_steps.FirstOrDefault(s => !s.Sustainable && s.Rate > peak.Rate))}.");
            md.AppendLine();
        }

        if (ceiling is not null)
        {
            md.AppendLine("## The load tool's own ceiling");
            md.AppendLine();
            md.AppendLine($"Against a trivial in-process server (POST → 202, GET → 200) at {F(ceiling.OfferedRate)} orders/s offered: accepted {F(ceiling.AchievedRate)}/s, " +
                          $"POST p50 {F(ceiling.PostLatencyMs.P50, "0.0")} ms, p99 {F(ceiling.PostLatencyMs.P99, "0.0")} ms, errors {ceiling.ErrorCount}. " +
                          "The figures above are well inside what the tool itself can drive.");
            md.AppendLine();
        }

        md.AppendLine("## Settings");
        md.AppendLine();
        var partitions = stack.TopicPartitions(Contracts.Topics.OrderCreated);
        md.AppendLine($"- Kafka: embedded librdkafka mock cluster, {partitions} partition{(partitions == 1 ? "" : "s")} per topic");
        foreach (var (name, value) in await stack.PostgresSettingsAsync(ct))
            md.AppendLine($"- PostgreSQL {name}: `{value}`");
        var kafkaDefaults = new Messaging.KafkaOptions();
        var outboxDefaults = new Messaging.OutboxOptions();
        md.AppendLine($"- Defaults unless overridden below: Kafka__MaxBatchSize={kafkaDefaults.MaxBatchSize}, Kafka__ConsumerLanes={kafkaDefaults.ConsumerLanes}, " +
                      $"Kafka__LingerMs={kafkaDefaults.LingerMs}, Outbox__BatchSize={outboxDefaults.BatchSize}, Outbox__PollIntervalMs={outboxDefaults.PollIntervalMs}; " +
                      "consumer offsets stored after each commit and auto-committed every 1 s; producer idempotent, acks=all");
        md.AppendLine($"- Scheduler: {stack.Scheduling()}");
        foreach (var (service, settings) in stack.ServiceSettings())
            md.AppendLine($"- {service}: {string.Join(", ", settings.Select(s => $"`{s}`"))}");
        md.AppendLine();

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(options.Output))!);
        await File.WriteAllTextAsync(options.Output, md.ToString(), ct);
        log.WriteLine($"\nWrote {options.Output}");
    }

    private string DescribeFailure(BenchmarkStep? step)
    {
        if (step is null) return "nothing (the ladder ended)";
        var r = step.Report;
        var reasons = new List<string>();
        if (r.SettleMs.P95 >= options.MaxSettleP95.TotalMilliseconds) reasons.Add($"time-to-settle p95 {r.SettleMs.P95:0} ms");
        if (r.ErrorCount + r.Unsettled + r.Dropped > options.MaxFailureShare * r.Scheduled) reasons.Add($"{r.ErrorCount + r.Dropped} errors and {r.Unsettled} unsettled");
        if (r.AchievedRate < options.MinAchievedShare * r.OfferedRate) reasons.Add($"accepted {r.AchievedRate:0}/s of {r.OfferedRate:0}/s offered");
        if (!step.CheckPassed) reasons.Add("the check");
        return $"{string.Join(", ", reasons)} at {step.Rate:0}/s";
    }

    private static string GitCommit()
    {
        try
        {
            using var git = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", "rev-parse --short HEAD") { RedirectStandardOutput = true });
            var commit = git!.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return commit.Length > 0 ? commit : "unknown";
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "unknown";
        }
    }
}
