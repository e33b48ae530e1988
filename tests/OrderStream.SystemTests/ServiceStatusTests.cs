using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

/// <summary>
/// <c>/admin/{service}/status</c>, the gateway's <c>/admin/system</c> and <c>/admin/{service}/crash</c> on a
/// stack of their own (the crash test kills its services and starts them again).
/// </summary>
public sealed class ServiceStatusTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);
    private static readonly string[] Names = ["gateway", "inventory", "payment", "materializer", "fulfilment"];

    private ServiceProcess Process(string name) => stack.ByKey[name];

    [Fact]
    public async Task Every_service_reports_its_own_status_through_the_gateway()
    {
        foreach (var name in Names)
        {
            var status = await StatusAsync(name);
            Assert.Equal(name, status.Service);
            Assert.True(status.Ready, $"{name} not ready");
            Assert.Equal(Process(name).ProcessId, status.ProcessId);
            Assert.InRange(status.StartedAt, DateTimeOffset.UtcNow.AddMinutes(-10), DateTimeOffset.UtcNow);
            Assert.NotNull(status.OutboxDepth);
        }
        Assert.Null((await StatusAsync("gateway")).Consumer);
        Assert.Equal("inventory", (await StatusAsync("inventory")).Consumer!.Group);
        Assert.Equal("payment", (await StatusAsync("payment")).Consumer!.Group);
        Assert.Equal("order-materializer", (await StatusAsync("materializer")).Consumer!.Group);
        Assert.Equal("fulfilment", (await StatusAsync("fulfilment")).Consumer!.Group);

        // The dead-letter counts have their own 2 s budget and read every dead-letter topic's watermarks: the
        // first call of a fresh stack may miss it (the part is then empty, by design); the next ones answer.
        var system = await Eventually.Get(async () => await SystemAsync() is { DeadLetters.Count: > 0 } s ? s : null,
            TimeSpan.FromSeconds(30), "/admin/system with its dead-letter counts");
        Assert.Equal(Names, system.Services.Select(s => s.Name));
        Assert.All(system.Services, s => Assert.True(s.Up && s.Status is { Ready: true } && s.Error is null, $"{s.Name}: {s.Error}"));
        Assert.Equal(Topics.All.Select(Topics.DeadLetter).Order(), system.DeadLetters.Select(d => d.Topic).Order());
        Assert.Equal(30, system.Orders.StuckAfterSeconds); // the default
        Assert.NotNull(system.Orders.Pending);
    }

    [Fact]
    public async Task Paused_inventory_shows_paused_its_lag_grows_and_the_orders_count_as_pending_and_stuck_until_resumed()
    {
        await stack.SeedAsync("ST-PAUSE", 100);
        (await stack.Admin.PostAsync("/admin/inventory/consumer/pause", null)).EnsureSuccessStatusCode();
        Guid[] ids;
        try
        {
            Assert.True((await StatusAsync("inventory")).Consumer!.Paused);
            Assert.False((await StatusAsync("payment")).Consumer!.Paused);
            ids = await Concurrently.ForAllAsync(Enumerable.Range(0, 8), 4, _ => stack.PlaceAsync(Orders.Body("status-pause", ("ST-PAUSE", 1, 1.00m))));

            // Measured every two seconds by the consumer loop, from the broker while paused.
            var paused = await Eventually.Get(async () => (await StatusAsync("inventory")).Consumer is { Lag: >= 8 } c ? c : null,
                TimeSpan.FromSeconds(30), "the paused inventory's lag to reach the 8 orders");
            Assert.True(paused.LagByTopic[Topics.OrderCreated] >= 8, JsonSerializer.Serialize(paused.LagByTopic));
            Assert.Equal(paused.Lag, paused.LagByTopic.Values.Sum());

            var system = await Eventually.Get(async () => await SystemAsync("?stuckAfter=0") is { Orders.Stuck: >= 8 } s ? s : null,
                TimeSpan.FromSeconds(30), "the 8 orders to count as stuck");
            Assert.True(system.Orders.Pending >= 8);
            Assert.Equal(0, system.Orders.StuckAfterSeconds);
            Assert.True(system.Services.Single(s => s.Name == "inventory").Status!.Consumer!.Paused);
            // Younger than a day: pending, not stuck.
            var patient = await SystemAsync("?stuckAfter=86400");
            Assert.True(patient.Orders.Pending >= 8);
            Assert.Equal(0, patient.Orders.Stuck);
        }
        finally
        {
            (await stack.Admin.PostAsync("/admin/inventory/consumer/resume", null)).EnsureSuccessStatusCode();
        }
        Assert.False((await StatusAsync("inventory")).Consumer!.Paused);
        await Concurrently.ForAllAsync(ids, 4, id => stack.WaitSettledAsync(id, Settle));
        await Eventually.True(async () => (await StatusAsync("inventory")).Consumer!.Lag == 0, TimeSpan.FromSeconds(30), "the inventory's lag back to 0");
        await Eventually.True(async () => (await SystemAsync("?stuckAfter=0")).Orders.Pending == 0, TimeSpan.FromSeconds(30), "no order pending");
    }

    [Fact]
    public async Task A_hung_service_is_listed_as_down_within_the_budget_and_the_call_still_answers_200()
    {
        stack.Payment.Suspend();
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var response = await stack.Admin.GetAsync("/admin/system");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
            var system = (await response.Content.ReadFromJsonAsync<SystemStatus>(JsonSerializerOptions.Web))!;
            var payment = system.Services.Single(s => s.Name == "payment");
            Assert.False(payment.Up);
            Assert.Null(payment.Status);
            Assert.Contains("did not answer", payment.Error);
            Assert.All(system.Services.Where(s => s.Name != "payment"), s => Assert.True(s.Up, $"{s.Name}: {s.Error}"));
        }
        finally
        {
            stack.Payment.Resume();
        }
        await Eventually.True(async () => (await SystemAsync()).Services.Single(s => s.Name == "payment").Up, TimeSpan.FromSeconds(10), "payment up again");
    }

    [Fact]
    public async Task Bad_input_is_a_400_problem()
    {
        foreach (var query in new[] { "?stuckAfter=-1", "?stuckAfter=abc", "?stuckAfter=999999999" })
        {
            var response = await stack.Admin.GetAsync("/admin/system" + query);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task Crash_needs_the_admin_role_and_then_kills_each_service_with_SIGKILL_and_it_can_be_started_again()
    {
        using var anonymous = new HttpClient { BaseAddress = stack.Gateway.BaseAddress };
        using var wrong = new HttpClient { BaseAddress = stack.Gateway.BaseAddress };
        // A valid token without the admin role.
        wrong.DefaultRequestHeaders.Authorization = new("Bearer", TestIdentity.Customer("crash-customer"));
        foreach (var name in Names)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync($"/admin/{name}/crash", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await wrong.PostAsync($"/admin/{name}/crash", null)).StatusCode);
        }
        Assert.All(Names, n => Assert.False(Process(n).HasExited, $"{n} died without the key"));

        // The gateway last: the others are crashed through it.
        foreach (var name in new[] { "payment", "inventory", "materializer", "fulfilment", "gateway" })
        {
            var service = Process(name);
            var pid = service.ProcessId;
            var response = await stack.Admin.PostAsync($"/admin/{name}/crash", null);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal(new CrashAccepted(name, pid), await response.Content.ReadFromJsonAsync<CrashAccepted>(JsonSerializerOptions.Web));
            Assert.Equal(137, await service.WaitForExitAsync(TimeSpan.FromSeconds(10)));
            if (name != "gateway")
            {
                var down = (await SystemAsync()).Services.Single(s => s.Name == name);
                Assert.False(down.Up);
                Assert.Contains("could not be reached", down.Error);
            }
        }

        // Started again, the stack works as before: an order placed now settles.
        foreach (var name in new[] { "inventory", "payment", "materializer", "fulfilment", "gateway" }) await Process(name).StartAsync();
        // Each is ready, but its first status answer (cold code, new connections) may miss the 1 s budget on a
        // busy machine; what counts is that every one comes back up.
        await Eventually.True(async () => (await SystemAsync()).Services.All(s => s.Up), TimeSpan.FromSeconds(30), "every service up again in /admin/system");
        await stack.SeedAsync("ST-CRASH", 10);
        var view = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("after-crash", ("ST-CRASH", 1, 1.00m))), Settle);
        Assert.Equal(OrderStatus.Confirmed, view.Status);
    }

    private async Task<ServiceStatus> StatusAsync(string name) =>
        (await stack.Admin.GetFromJsonAsync<ServiceStatus>($"/admin/{name}/status", JsonSerializerOptions.Web))!;

    private async Task<SystemStatus> SystemAsync(string query = "")
    {
        var response = await stack.Admin.GetAsync("/admin/system" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<SystemStatus>(JsonSerializerOptions.Web))!;
    }
}
