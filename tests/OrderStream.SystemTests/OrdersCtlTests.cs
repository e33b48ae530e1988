using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.RegularExpressions;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

/// <summary>deploy/local/ordersctl, the operator's script, run against a stack of its own (URL and signing key from the environment).</summary>
public sealed class OrdersCtlTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Seed_order_and_orders_show_stock_and_an_order_with_its_timeline()
    {
        var seeded = await RunAsync("seed", "CTL-1", "25");
        Assert.Equal("CTL-1: available 25, reserved 0, sold 0, received 25", seeded.Trim());
        Assert.Equal(new Orders.Stock("CTL-1", 25, 0, 0, 25), await stack.Http.GetFromJsonAsync<Orders.Stock>("/inventory/CTL-1"));
        // Stock alone is not for sale: the catalogue price is what the order below is charged.
        Assert.Equal("CTL-1: Blue mug, 3.5 EUR", (await RunAsync("price", "CTL-1", "3.50", "eur", "Blue mug")).Trim());
        Assert.Contains("price must be a number", await RunAsync(["price", "CTL-1", "3.505"], expectedExit: 2));

        var id = await stack.PlaceAsync(Orders.Body("ctl-alice", ("CTL-1", 2, 3.50m)));
        await stack.WaitSettledAsync(id, Settle);
        var order = await RunAsync("order", id.ToString());
        Assert.Contains($"order    {id}", order);
        Assert.Contains("status   CONFIRMED", order);
        Assert.Contains("2 x CTL-1 at 3.5", order);
        var timeline = order[order.IndexOf("timeline", StringComparison.Ordinal)..];
        Assert.True(timeline.IndexOf(Topics.OrderCreated, StringComparison.Ordinal) < timeline.IndexOf(Topics.PaymentAuthorized, StringComparison.Ordinal), order);
        Assert.Contains(Topics.InventoryReserved, timeline);

        var orders = await RunAsync("orders", "--user", "ctl-alice", "--status", "CONFIRMED");
        Assert.Contains($"{id}  CONFIRMED  ctl-alice  7", orders);

        var missing = await RunAsync(["order", Guid.NewGuid().ToString()], expectedExit: 1);
        Assert.Contains("HTTP 404", missing);
    }

    [Fact]
    public async Task Deadletters_lists_a_dead_letter_and_redrive_publishes_it_once()
    {
        var orderId = Guid.NewGuid();
        await stack.Kafka.ProduceRawAsync(Topics.InventoryReserved, orderId.ToString(), Encoding.UTF8.GetBytes("{\"broken\":"),
            new() { [Headers.EventId] = Guid.NewGuid().ToString(), [Headers.EventType] = Topics.InventoryReserved });
        var dlq = Topics.DeadLetter(Topics.InventoryReserved);

        // Payment and the materializer both consume inventory.reserved (v2): each dead-letters its copy.
        var listing = await Eventually.Get(async () =>
        {
            var text = await RunAsync("deadletters", Topics.InventoryReserved);
            return text.Split('\n').Count(l => l.Contains($"key {orderId}", StringComparison.Ordinal)) == 2 ? text : null;
        }, Settle, "the two dead letters in ordersctl's listing", TimeSpan.FromMilliseconds(500));
        Assert.Contains($"{dlq}: 2 dead letters, 0 redriven, 2 waiting", listing);
        Assert.Contains("Malformed event", listing);
        Assert.Contains("by payment", listing);
        Assert.Contains("{\"broken\":", listing);

        var summary = await RunAsync("deadletters");
        Assert.Matches(@$"\s+2\s+0\s+2  {Regex.Escape(dlq)}\n", summary);

        var first = listing.Split('\n').First(l => l.Contains($"key {orderId}", StringComparison.Ordinal));
        var place = Regex.Match(first, @"^\[(\d+)\] @(\d+)");
        var before = stack.Kafka.MessageCount(Topics.InventoryReserved);
        Assert.Contains($"published 1 to {Topics.InventoryReserved}", await RunAsync("redrive", dlq, place.Groups[1].Value, place.Groups[2].Value));
        Assert.Contains($"published 0 to {Topics.InventoryReserved}; 1 redriven before", await RunAsync("redrive", dlq, place.Groups[1].Value, place.Groups[2].Value));
        Assert.Equal(before + 1, stack.Kafka.MessageCount(Topics.InventoryReserved));
        Assert.Contains("REDRIVEN", await RunAsync("deadletters", dlq));
        // Still broken, so both consumers dead-letter it again; wait for that before purging.
        await Eventually.True(async () => (await RunAsync("deadletters", dlq)).Split('\n').Count(l => l.Contains($"key {orderId}", StringComparison.Ordinal)) == 4,
            Settle, "the redriven message dead-lettered again");

        // Purge asks for the topic's name; a wrong answer purges nothing.
        var refused = await RunAsync(["purge", Topics.InventoryReserved], stdin: "inventory.reserved.v1\n", expectedExit: 1);
        Assert.Contains("HTTP 400", refused);
        Assert.Contains("confirm", refused);
        Assert.Matches(@$"purged \d+ dead letters of {Regex.Escape(dlq)}", await RunAsync(["purge", Topics.InventoryReserved], stdin: dlq + "\n"));
        Assert.Contains($"{dlq}: 0 dead letters", await RunAsync("deadletters", dlq));
    }

    [Fact]
    public async Task Stuck_pause_resume_decline_rate_and_read_only_drive_the_running_system()
    {
        await stack.SeedAsync("CTL-2", 100);
        Assert.Equal("inventory consumer: paused", (await RunAsync("pause", "inventory")).Trim());
        Guid id;
        try
        {
            id = await stack.PlaceAsync(Orders.Body("ctl-stuck", ("CTL-2", 1, 1.00m)));
            await Eventually.True(async () => (await RunAsync("stuck", "--older-than", "0s")).Contains(id.ToString(), StringComparison.Ordinal),
                Settle, "the paused order listed as stuck");
            Assert.DoesNotContain(id.ToString(), await RunAsync("stuck", "--older-than", "1h"));
        }
        finally
        {
            Assert.Equal("inventory consumer: running", (await RunAsync("resume", "inventory")).Trim());
        }
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(id, Settle)).Status);

        Assert.Contains("decline rate 1,", await RunAsync("decline-rate", "1"));
        try
        {
            var declined = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("ctl-declined", ("CTL-2", 1, 1.00m))), Settle);
            Assert.Equal((OrderStatus.Failed, FailureReasons.PaymentDeclined), (declined.Status, declined.Reason));
        }
        finally
        {
            Assert.Contains("decline rate 0,", await RunAsync("decline-rate", "0"));
        }

        Assert.Contains("read-only on", await RunAsync("read-only", "on", "9"));
        try
        {
            var refused = await stack.Http.PostAsJsonAsync("/orders", Orders.Body("ctl-ro", ("CTL-2", 1, 1.00m)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }
        finally
        {
            Assert.Equal("read-only off", (await RunAsync("read-only", "off")).Trim());
        }

        Assert.Contains("no consumer named", await RunAsync(["pause", "gateway"], expectedExit: 2));
        Assert.Contains("usage: ordersctl", await RunAsync("help"));
        var noKey = await RunAsync(["deadletters"], expectedExit: 2, state: Path.Combine(Path.GetTempPath(), "ordersctl-test-no-state"));
        Assert.Contains("no signing key", noKey);
        // A token of another role than the command needs (ORDERSTREAM_TOKEN instead of one minted as admin).
        Assert.Contains("HTTP 403", await RunAsync(["deadletters"], expectedExit: 1, token: TestIdentity.Customer("ctl-customer")));
        Assert.Contains("HTTP 401", await RunAsync(["deadletters"], expectedExit: 1, token: "a-wrong-key-of-some-length"));
    }

    [Fact]
    public async Task Token_prints_a_token_the_stack_accepts_for_that_user_and_role_only()
    {
        await stack.SeedAsync("CTL-T", 10);
        var token = (await RunAsync("token", "--role", "customer", "--user", "ctl-bob", "--ttl", "30m")).Trim();
        using var bob = stack.Client(token);
        // The order's user is the token's: the body names none.
        var placed = await bob.PostAsJsonAsync("/orders", new { currency = "EUR", items = new[] { new { sku = "CTL-T", qty = 1, price = 1.00m } } });
        Assert.Equal(HttpStatusCode.Accepted, placed.StatusCode);
        var id = (await placed.Content.ReadFromJsonAsync<Orders.Accepted>())!.OrderId;
        Assert.Equal("ctl-bob", (await stack.WaitSettledAsync(id, Settle)).UserId);
        // A customer token opens no operator control.
        Assert.Equal(HttpStatusCode.Forbidden, (await bob.GetAsync("/admin/deadletters")).StatusCode);

        var admin = (await RunAsync("token", "--role", "admin", "--user", "ctl-ops", "--ttl", "8h")).Trim();
        Assert.Equal(HttpStatusCode.OK, (await stack.Client(admin).GetAsync("/admin/deadletters")).StatusCode);
        Assert.Contains("--role", await RunAsync(["token", "--role", "root", "--user", "x"], expectedExit: 2));
        Assert.Contains("--ttl", await RunAsync(["token", "--role", "admin", "--user", "x", "--ttl", "forever"], expectedExit: 2));
    }

    private Task<string> RunAsync(params string[] args) => RunAsync(args, expectedExit: 0);

    /// <summary>Runs the script with the stack's URL and this run's signing key in its environment; returns stdout and stderr.</summary>
    private async Task<string> RunAsync(string[] args, int expectedExit = 0, string? stdin = null, string? state = null, string? token = null)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "deploy", "local", "ordersctl"));
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        psi.Environment["ORDERSTREAM_URL"] = stack.Gateway.BaseAddress.ToString().TrimEnd('/');
        // The test run's key pair, laid out as run.sh's state: ordersctl mints its tokens with it (never a developer's .local).
        psi.Environment["ORDERSTREAM_STATE"] = state ?? TestIdentity.StateDirectory;
        psi.Environment["CONFIGURATION"] = Repo.Configuration;
        if (token is not null) psi.Environment["ORDERSTREAM_TOKEN"] = token;
        using var process = Process.Start(psi)!;
        await process.StandardInput.WriteAsync(stdin ?? "");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        Assert.True(process.ExitCode == expectedExit, $"ordersctl {string.Join(' ', args)} exited {process.ExitCode}, expected {expectedExit}:\n{output}");
        return output;
    }
}
