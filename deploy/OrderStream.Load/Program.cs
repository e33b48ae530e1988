using System.CommandLine;
using System.Text.Json;
using OrderStream.Load;
using OrderStream.Stack;

// The OrderStream load tool: k6's ramping-arrival-rate scenario, for machines where k6 cannot run.
var url = new Option<string>("--url") { Description = "Gateway base URL", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
var rate = new Option<double>("--rate") { Description = "Peak orders per second", DefaultValueFactory = _ => 50 };
var startRate = new Option<double>("--start-rate") { Description = "Orders per second at the start", DefaultValueFactory = _ => 1 };
var ramp = new Option<string>("--ramp") { Description = "Ramp-up and ramp-down time", DefaultValueFactory = _ => "10s" };
var duration = new Option<string>("--duration") { Description = "Time held at --rate", DefaultValueFactory = _ => "30s" };
var stages = new Option<string?>("--stages") { Description = "Explicit k6-style stages instead of ramp/duration, e.g. '10s:100,30s:100,10s:0'" };
var skus = new Option<int>("--skus") { Description = "Orders draw from SKU-001..SKU-<n>", DefaultValueFactory = _ => 10 };
var maxQty = new Option<int>("--max-qty") { Description = "Units per order: 1..n", DefaultValueFactory = _ => 3 };
var hot = new Option<double>("--hot-share") { Description = "Share of orders on SKU-001 only", DefaultValueFactory = _ => 0 };
var declines = new Option<double>("--decline-share") { Description = "Share of orders from decline-* users (always declined)", DefaultValueFactory = _ => 0 };
var firstPoll = new Option<int>("--first-poll-ms") { Description = "Wait before the first GET", DefaultValueFactory = _ => 250 };
var poll = new Option<int?>("--poll-ms") { Description = "Fixed poll interval; default: honour each 202's Retry-After" };
var settleTimeout = new Option<int>("--settle-timeout") { Description = "Seconds an order may take to settle", DefaultValueFactory = _ => 30 };
var maxInFlight = new Option<int>("--max-in-flight") { Description = "Orders followed at once; arrivals beyond are dropped and counted", DefaultValueFactory = _ => 20_000 };
var json = new Option<FileInfo?>("--json") { Description = "Also write the results to this JSON file" };
var maxErrorRate = new Option<double>("--max-error-rate") { Description = "Fail (exit 1) above this share of errors or unsettled orders", DefaultValueFactory = _ => 0.001 };
var trivial = new Option<bool>("--trivial-server") { Description = "Drive an in-process server that does nothing: the tool's own ceiling" };
var stateDir = new Option<string>("--state") { Description = "State directory of the stack run.sh started (its identity/ signs each user's token)", DefaultValueFactory = _ => ".local" };

var root = new RootCommand("Drives POST /orders at an open-model arrival rate and follows every order until it settles.")
{
    url, rate, startRate, ramp, duration, stages, skus, maxQty, hot, declines, firstPoll, poll, settleTimeout, maxInFlight, json, maxErrorRate, trivial, stateDir,
};
root.SetAction(async (ParseResult p, CancellationToken ct) =>
{
    var scenario = p.GetValue(stages) is { } s
        ? Scenario.Parse(p.GetValue(startRate), s)
        : Scenario.Parse(p.GetValue(startRate), $"{p.GetValue(ramp)}:{p.GetValue(rate)},{p.GetValue(duration)}:{p.GetValue(rate)},{p.GetValue(ramp)}:0");
    var gateway = new Uri(p.GetValue(url)!);
    await using var server = p.GetValue(trivial) ? await TrivialServer.StartAsync(gateway.Port) : null;

    var options = new LoadOptions(gateway, scenario)
    {
        Skus = p.GetValue(skus), MaxQty = p.GetValue(maxQty), HotShare = p.GetValue(hot), DeclineShare = p.GetValue(declines),
        FirstPoll = TimeSpan.FromMilliseconds(p.GetValue(firstPoll)),
        PollInterval = p.GetValue(poll) is { } ms ? TimeSpan.FromMilliseconds(ms) : null,
        SettleTimeout = TimeSpan.FromSeconds(p.GetValue(settleTimeout)), MaxInFlight = p.GetValue(maxInFlight),
        // Every user places and polls as itself: a customer token per user, signed with the stack's key.
        TokenFor = server is null ? new LocalStackState(p.GetValue(stateDir)!).Identity.CustomerTokens(TimeSpan.FromHours(12)) : null,
    };
    Console.WriteLine($"OrderStream load: {options.Describe()} against {gateway}{(server is null ? "" : " (trivial in-process server)")}, {Environment.ProcessorCount} cores");
    using var http = LoadRunner.CreateClient(gateway);
    var report = await new LoadRunner(options, http).RunAsync(ct);
    Console.WriteLine(report);
    if (p.GetValue(json) is { } file)
        await File.WriteAllTextAsync(file.FullName, JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true }), ct);

    var failures = report.ErrorCount + report.Unsettled + report.Dropped;
    return failures > p.GetValue(maxErrorRate) * Math.Max(1, report.Scheduled) ? 1 : 0;
});

var output = new Option<string>("--out") { Description = "Markdown file to write", DefaultValueFactory = _ => "docs/benchmarks.md" };
var hold = new Option<string>("--hold") { Description = "Time held at each step's rate", DefaultValueFactory = _ => "20s" };
var ladder = new Option<string?>("--rates") { Description = "Comma-separated rates the search climbs through" };
var benchmark = new Command("benchmark", "Finds the highest sustainable rate of a stack started by deploy/local/run.sh, measures latency below it, a hot SKU and the tool's ceiling, and writes Markdown.")
{
    url, stateDir, output, hold, ladder,
};
benchmark.SetAction(async (ParseResult p, CancellationToken ct) =>
{
    var options = new BenchmarkOptions(new Uri(p.GetValue(url)!), p.GetValue(stateDir)!, p.GetValue(output)!)
    {
        Hold = Scenario.ParseDuration(p.GetValue(hold)!),
    };
    if (p.GetValue(ladder) is { } rates)
        options = options with { Rates = rates.Split(',').Select(r => double.Parse(r, System.Globalization.CultureInfo.InvariantCulture)).ToList() };
    return await new Benchmark(options, new LocalStack(options.StateDir), Console.Out).RunAsync(ct);
});
root.Subcommands.Add(benchmark);
return await root.Parse(args).InvokeAsync();
