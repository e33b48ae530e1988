using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.Playwright;
using OrderStream.Stack;
using OrderStream.TestSupport;

namespace OrderStream.UiTests;

/// <summary>
/// One whole local stack, started the way a person starts it (<c>deploy/local/run.sh start</c>, the
/// dashboard and the trace viewer included) on free ports with a private state directory, and one
/// headless Debian Chromium driven by Playwright. Shared by every browser test class: starting a stack
/// costs about half a minute on two cores, so tests keep to their own users and SKUs instead of
/// asking for a fresh one.
/// </summary>
public sealed class DashboardStack : IAsyncLifetime
{
    /// <summary>Debian's package; Playwright is never asked to download a browser of its own.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    // No sandbox: the tests run as root in CI, where Chromium's sandbox refuses to start. The rest keep
    // Chromium off the network, which is closed here: without them it keeps retrying update, sync and
    // component downloads, slowing every page of a two-core machine.
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    private static readonly string[] PortVariables =
    [
        "PG_PORT", "REDIS_PORT", "GATEWAY_PORT", "INVENTORY_PORT", "PAYMENT_PORT", "MATERIALIZER_PORT", "DASHBOARD_PORT",
        "TRACE_VIEWER_PORT", "TRACE_VIEWER_OTLP_GRPC_PORT", "TRACE_VIEWER_OTLP_HTTP_PORT",
    ];

    private static readonly string RunSh = Path.Combine(Repo.Root, "deploy", "local", "run.sh");

    /// <summary>run.sh's state directory (<c>ORDERSTREAM_STATE</c>): pid files, logs, identity/, connections.env.</summary>
    public string State { get; } = Path.Combine(Path.GetTempPath(), $"orderstream-ui-{Guid.NewGuid():N}");

    public IReadOnlyDictionary<string, int> Ports { get; } = PortVariables.ToDictionary(v => v, _ => Repo.FreePort());

    public Uri Dashboard => new($"http://127.0.0.1:{Ports["DASHBOARD_PORT"]}");
    public Uri Gateway => new($"http://127.0.0.1:{Ports["GATEWAY_PORT"]}");
    public Uri TraceViewer => new($"http://127.0.0.1:{Ports["TRACE_VIEWER_PORT"]}");

    /// <summary>The gateway with an admin's token (minted with run.sh's key): setup and clean-up that the test is not about.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>The gateway's public API, as the user each request is about (a customer for their orders).</summary>
    public HttpClient Public { get; private set; } = null!;

    /// <summary>The tokens of this stack: signed with the key pair run.sh made under <c>$STATE/identity</c>.</summary>
    public LocalIdentity Identity { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;
    private IPlaywright? _playwright;
    private string RunLog => State + ".run.log";

    public async Task InitializeAsync()
    {
        // Long enough for a page that polls about every second under load on two cores; each test still
        // gives its own longer deadline where a saga has to finish first.
        Assertions.SetDefaultExpectTimeout(15_000);
        try { await StartAsync(); }
        catch
        {
            await DisposeAsync(); // a stack half started is stopped all the same
            throw;
        }
    }

    private async Task StartAsync()
    {
        await RunShAsync(["start"], TimeSpan.FromMinutes(4), RunLog);
        Identity = new LocalStackState(State).Identity;
        Admin = new HttpClient { BaseAddress = Gateway, Timeout = TimeSpan.FromSeconds(30) };
        Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Identity.Issue("ui-admin", ["admin"], TimeSpan.FromHours(2)));
        Public = new HttpClient { BaseAddress = Gateway, Timeout = TimeSpan.FromSeconds(30) };
        using (var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
            await Eventually.True(async () => (await probe.GetAsync(new Uri(Dashboard, "/readyz"))).IsSuccessStatusCode,
                TimeSpan.FromSeconds(60), $"the dashboard at {Dashboard} to be ready");

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
        });
    }

    /// <summary>A fresh browser context (its own cookies) at the given viewport, not signed in.</summary>
    public Task<IBrowserContext> NewContextAsync(int width = 1280, int height = 900) =>
        Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            BaseURL = Dashboard.ToString(),
        });

    /// <summary>A token of this stack for <paramref name="user"/> with <paramref name="roles"/> (as <c>ordersctl token</c> mints it).</summary>
    public string TokenFor(string user, params string[] roles) => Identity.Issue(user, roles, TimeSpan.FromHours(2));

    /// <summary>Signs <paramref name="page"/>'s browser context in on the login page with <paramref name="token"/>, as a person pastes it.</summary>
    public async Task SignInAsync(IPage page, string token)
    {
        await page.GotoAsync("/login");
        await page.GetByTestId("login-token").FillAsync(token);
        await page.GetByTestId("login-submit").ClickAsync();
        await Assertions.Expect(page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
    }

    /// <summary>
    /// A page signed in through the login page, on <paramref name="path"/>, as <paramref name="user"/> (a new
    /// one by default) with <paramref name="roles"/> (by default all three: a test about a page, not about roles).
    /// </summary>
    public async Task<(IBrowserContext Context, IPage Page)> SignedInAsync(string path = "/orders", int width = 1280, int height = 900,
        string? user = null, string[]? roles = null)
    {
        var context = await NewContextAsync(width, height);
        var page = await context.NewPageAsync();
        await SignInAsync(page, TokenFor(user ?? Ui.Unique("ui-person"), roles ?? ["customer", "seller", "admin"]));
        if (path != "/") await page.GotoAsync(path);
        return (context, page);
    }

    /// <summary>Adds stock to a SKU (creating it) through the gateway, as a seller, and lists it in the catalogue at 2.50 EUR.</summary>
    public async Task SeedAsync(string sku, int quantity)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/inventory/{sku}") { Content = JsonContent.Create(new { quantity, reason = "ui test seed" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Identity.Issue("ui-seller", ["seller"], TimeSpan.FromMinutes(10)));
        (await Admin.SendAsync(request)).EnsureSuccessStatusCode();
        await PriceAsync(sku, 2.50m);
    }

    /// <summary>Lists a SKU in the catalogue (orders are priced from it), as a seller.</summary>
    public async Task PriceAsync(string sku, decimal unitPrice)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/products/{sku}") { Content = JsonContent.Create(new { name = $"Product {sku}", unitPrice, currency = "EUR" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Identity.Issue("ui-seller", ["seller"], TimeSpan.FromMinutes(10)));
        (await Admin.SendAsync(request)).EnsureSuccessStatusCode();
    }

    /// <summary>Places an order through the gateway's public API (for orders the test does not place in the UI).</summary>
    /// <remarks>The lines carry no price: inventory prices them from its catalogue.</remarks>
    public async Task<Guid> PlaceAsync(string userId, string sku, int qty = 1)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(new { userId, items = new[] { new { sku, qty } }, currency = "EUR" }) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Identity.Issue(userId, ["customer"], TimeSpan.FromMinutes(10)));
        using var response = await Public.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
        return body.GetProperty("orderId").GetGuid();
    }

    /// <summary>
    /// <c>run.sh check --wait</c>: the project's checker over the whole stack's books (every database, the
    /// Kafka topics and consumer groups). Exit code 0 means every check passed.
    /// </summary>
    public async Task<(int ExitCode, string Output)> CheckBooksAsync(int waitSeconds = 60)
    {
        var log = State + $".check-{Guid.NewGuid():N}.log";
        try
        {
            var code = await RunShAsync(["check", "--wait", waitSeconds.ToString()], TimeSpan.FromSeconds(waitSeconds + 120), log, throwOnFailure: false);
            return (code, await File.ReadAllTextAsync(log));
        }
        finally { File.Delete(log); }
    }

    /// <summary>The supervisor's log (<c>$STATE/supervisor.log</c>): run.sh writes every restart there.</summary>
    public string SupervisorLog() =>
        File.Exists(Path.Combine(State, "supervisor.log")) ? File.ReadAllText(Path.Combine(State, "supervisor.log")) : "";

    /// <summary>The end of each service log, for a failure message.</summary>
    public string LogTails(int lines = 25)
    {
        if (!Directory.Exists(State)) return "(no state directory)";
        return string.Join("\n", Directory.GetFiles(State, "*.log").Order().Select(f =>
            $"==> {Path.GetFileName(f)} <==\n" + string.Join("\n", File.ReadLines(f).TakeLast(lines))));
    }

    /// <summary>
    /// Runs run.sh with this stack's environment. Its output goes to a file, not a pipe: the services and
    /// the supervisor it leaves running inherit stdout, and a pipe would never reach its end.
    /// </summary>
    private async Task<int> RunShAsync(string[] args, TimeSpan timeout, string log, bool throwOnFailure = true)
    {
        var psi = new ProcessStartInfo("/bin/bash") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("exec \"$0\" \"$@\" >\"$LOG\" 2>&1 </dev/null");
        psi.ArgumentList.Add(RunSh);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LOG"] = log;
        psi.Environment["ORDERSTREAM_STATE"] = State;
        psi.Environment["ORDERSTREAM_SKIP_BUILD"] = "1"; // test.sh (or the developer) built the solution
        psi.Environment["CONFIGURATION"] = Repo.Configuration;
        psi.Environment["TRACE_VIEWER"] = "on"; // the order page's trace link points at it
        foreach (var (name, port) in Ports) psi.Environment[name] = port.ToString();
        // The stack's own choices, not the caller's: a caller's exporter would switch the viewer off.
        psi.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");

        using var process = Process.Start(psi) ?? throw new InvalidOperationException("bash did not start");
        using var cts = new CancellationTokenSource(timeout);
        try { await process.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"run.sh {string.Join(' ', args)} did not finish within {timeout}:\n{Tail(log)}\n{LogTails()}");
        }
        if (throwOnFailure && process.ExitCode != 0)
            throw new InvalidOperationException($"run.sh {string.Join(' ', args)} exited with {process.ExitCode}:\n{Tail(log)}\n{LogTails()}");
        return process.ExitCode;
    }

    private static string Tail(string file, int lines = 60) =>
        File.Exists(file) ? string.Join("\n", File.ReadLines(file).TakeLast(lines)) : $"({file} missing)";

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        Admin?.Dispose();
        Public?.Dispose();
        Browser = null!;
        _playwright = null;
        try
        {
            if (Directory.Exists(State)) await RunShAsync(["stop"], TimeSpan.FromMinutes(1), State + ".stop.log");
        }
        finally
        {
            // ORDERSTREAM_UI_KEEP_STATE=1 keeps the logs (every service's, the supervisor's) to read after a failure.
            if (Environment.GetEnvironmentVariable("ORDERSTREAM_UI_KEEP_STATE") != "1")
            {
                if (Directory.Exists(State)) Directory.Delete(State, recursive: true);
                foreach (var f in new[] { RunLog, State + ".stop.log" }) File.Delete(f);
            }
        }
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardStack>
{
    public const string Name = "dashboard";
}
