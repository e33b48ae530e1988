using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

/// <summary>The operator surface is closed without an admin's token, off when switched off, and POST /orders is rate limited per user.</summary>
public sealed class AdminSecurityTests(AdminSecurityTests.Stack stack) : IClassFixture<AdminSecurityTests.Stack>
{
    /// <summary>A stack whose gateway allows 1 order/s per user with a burst of 3.</summary>
    public sealed class Stack : OrderStreamStack
    {
        protected override IReadOnlyDictionary<string, string> ExtraSettings(string service) => service == "api-gateway"
            ? new Dictionary<string, string> { ["RateLimit__PermitsPerSecond"] = "1", ["RateLimit__Burst"] = "3" }
            : new Dictionary<string, string>();
    }

    private IEnumerable<(string What, Uri Url)> AdminUrls() =>
    [
        ("gateway", new Uri(stack.Gateway.BaseAddress, "/admin/gateway/read-only")),
        ("inventory", new Uri(stack.Inventory.BaseAddress, "/admin/inventory")),
        ("inventory consumer", new Uri(stack.Inventory.BaseAddress, "/admin/inventory/consumer")),
        ("inventory vendors", new Uri(stack.Inventory.BaseAddress, "/admin/inventory/vendors")),
        ("inventory vendors via gateway", new Uri(stack.Gateway.BaseAddress, "/admin/inventory/vendors")),
        ("payment", new Uri(stack.Payment.BaseAddress, "/admin/payment/settings")),
        ("materializer", new Uri(stack.Materializer.BaseAddress, "/admin/materializer/consumer")),
        ("inventory via gateway", new Uri(stack.Gateway.BaseAddress, "/admin/inventory")),
        ("payment via gateway", new Uri(stack.Gateway.BaseAddress, "/admin/payment/settings")),
        ("materializer via gateway", new Uri(stack.Gateway.BaseAddress, "/admin/materializer/consumer")),
        ("dead letters", new Uri(stack.Gateway.BaseAddress, "/admin/deadletters")),
        ("gateway status", new Uri(stack.Gateway.BaseAddress, "/admin/gateway/status")),
        ("inventory status", new Uri(stack.Inventory.BaseAddress, "/admin/inventory/status")),
        ("payment status", new Uri(stack.Payment.BaseAddress, "/admin/payment/status")),
        ("materializer status", new Uri(stack.Materializer.BaseAddress, "/admin/materializer/status")),
        ("payment status via gateway", new Uri(stack.Gateway.BaseAddress, "/admin/payment/status")),
        ("system", new Uri(stack.Gateway.BaseAddress, "/admin/system")),
    ];

    [Fact]
    public async Task Every_admin_endpoint_is_401_without_a_valid_token_403_without_the_admin_role_and_200_with_it()
    {
        using var http = new HttpClient();
        foreach (var (what, url) in AdminUrls())
        {
            var missing = await http.GetAsync(url);
            await AssertProblemAsync(missing, HttpStatusCode.Unauthorized, what);
            Assert.Contains(missing.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");

            // Not a token at all (the old operator key's shape), and a scheme that is not Bearer: no identity.
            await AssertProblemAsync(await SendAsync(http, url, ("Authorization", "Bearer wrong-key-of-enough-length")), HttpStatusCode.Unauthorized, what);
            await AssertProblemAsync(await SendAsync(http, url, ("Authorization", "Basic " + ServiceProcess.AdminApiKey)), HttpStatusCode.Unauthorized, what);
            // Valid tokens without the admin role.
            await AssertProblemAsync(await SendAsync(http, url, ("Authorization", "Bearer " + TestIdentity.Customer("admin-sec-customer"))), HttpStatusCode.Forbidden, what);
            await AssertProblemAsync(await SendAsync(http, url, ("Authorization", "Bearer " + TestIdentity.Seller())), HttpStatusCode.Forbidden, what);

            Assert.True((await SendAsync(http, url, ("Authorization", "Bearer " + TestIdentity.Admin()))).IsSuccessStatusCode, $"{what}: admin token refused");
        }

        // A change without the token changes nothing.
        using var anonymous = new HttpClient { BaseAddress = stack.Gateway.BaseAddress };
        await AssertProblemAsync(await anonymous.PutAsJsonAsync("/admin/payment/settings", new { declineRate = 1.0 }), HttpStatusCode.Unauthorized, "PUT payment settings");
        var settings = await stack.Admin.GetFromJsonAsync<JsonElement>("/admin/payment/settings");
        Assert.Equal(0.0, settings.GetProperty("declineRate").GetDouble());
    }

    [Fact]
    public async Task With_admin_switched_off_the_admin_endpoints_do_not_exist_and_the_public_api_still_works()
    {
        // A second gateway instance on the same database (as with replicas), with admin off.
        await using var gateway = ServiceProcess.Create("api-gateway", stack.Databases["gateway"], stack.Kafka.BootstrapServers,
        [
            new("Admin__Enabled", "false"),
            new("Redis__Configuration", stack.Redis.Configuration),
            new("Services__Inventory", stack.Inventory.BaseAddress.ToString()),
            new("Services__Materializer", stack.Materializer.BaseAddress.ToString()),
            new("Services__Payment", stack.Payment.BaseAddress.ToString()),
        ]);
        await gateway.StartAsync();
        using var admin = gateway.AdminClient();
        foreach (var path in new[] { "/admin/gateway/read-only", "/admin/payment/settings", "/admin/inventory", "/admin/materializer/consumer", "/admin/deadletters",
                     "/admin/gateway/status", "/admin/gateway/crash", "/admin/system" })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync(path)).StatusCode);
            // Any signed-in caller gets the same 404 (one without a token is refused before routing matters: 401).
            using var customer = new HttpClient { BaseAddress = gateway.BaseAddress }.WithToken(TestIdentity.Customer("admin-off-customer"));
            Assert.Equal(HttpStatusCode.NotFound, (await customer.PutAsJsonAsync(path, new { enabled = true })).StatusCode);
        }
        // No crash either: the route does not exist, and the gateway keeps running.
        Assert.Equal(HttpStatusCode.NotFound, (await admin.PostAsync("/admin/gateway/crash", null)).StatusCode);
        Assert.False(gateway.HasExited);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/orders?limit=1")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/inventory")).StatusCode);
    }

    [Fact]
    public async Task A_service_without_a_signing_key_or_authority_refuses_to_start()
    {
        await using var payment = ServiceProcess.Create("payment", stack.Databases["payment"], stack.Kafka.BootstrapServers,
            [new("Auth__SigningKeyFile", ""), new("Kafka__GroupId", "payment-keyless-" + Guid.NewGuid().ToString("N"))]);
        await Assert.ThrowsAsync<InvalidOperationException>(() => payment.StartAsync(TimeSpan.FromSeconds(30)));
        Assert.True(payment.CountOutput("Set exactly one of Auth__Authority") > 0, payment.RecentOutput());
    }

    [Fact]
    public async Task A_user_over_its_rate_limit_gets_429_with_Retry_After_and_other_users_keep_their_own_budget()
    {
        await stack.SeedAsync("RL-1", 1_000);
        var answers = new List<HttpResponseMessage>();
        // The X-Client-Id header an earlier version partitioned by buys no fresh budget: the subject decides.
        for (var i = 0; i < 10; i++) answers.Add(await PostAsClientAsync("client-a", clientIdHeader: $"rotated-{i}"));

        // The burst of 3 is always accepted; sending 10 in a row outruns a refill of 1 per second.
        Assert.All(answers.Take(3), r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        var limited = answers.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToList();
        Assert.NotEmpty(limited);
        foreach (var response in limited)
        {
            await AssertProblemAsync(response, HttpStatusCode.TooManyRequests, "rate limited");
            Assert.InRange(response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        }
        // Another user has a bucket of its own.
        Assert.Equal(HttpStatusCode.Accepted, (await PostAsClientAsync("client-b")).StatusCode);
        // Reads are not limited.
        for (var i = 0; i < 10; i++) Assert.Equal(HttpStatusCode.OK, (await stack.Http.GetAsync("/inventory/RL-1")).StatusCode);
    }

    private Task<HttpResponseMessage> PostAsClientAsync(string user, string? clientIdHeader = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(Orders.Body("rate-" + user, ("RL-1", 1, 1.00m))) };
        request.Headers.Authorization = new("Bearer", TestIdentity.Customer("rate-" + user));
        if (clientIdHeader is not null) request.Headers.Add("X-Client-Id", clientIdHeader);
        return stack.Http.SendAsync(request);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, Uri url, (string Name, string Value) header)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        return http.SendAsync(request);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{what}: expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, JsonDocument.Parse(text).RootElement.GetProperty("status").GetInt32());
    }
}
