using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OrderStream.Contracts;
using OrderStream.Stack;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

/// <summary>
/// Who may do what (docs/security.md): each role on each endpoint group, through the gateway and on the
/// services directly; another user's orders; and every kind of bad token, each refused with a 401
/// problem+json that says Bearer, while a valid token without the role is a 403.
/// </summary>
public sealed class SecurityTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    private static readonly string Alice = TestIdentity.Customer("sec-alice");
    private static readonly string Bob = TestIdentity.Customer("sec-bob");
    private static readonly string Seller = TestIdentity.Seller("sec-seller");
    private static readonly string Admin = TestIdentity.Admin("sec-admin");

    [Fact]
    public async Task Only_a_customer_places_orders_and_always_as_the_tokens_own_user()
    {
        await stack.SeedAsync("SEC-P", 100);
        await AssertStatusAsync(HttpStatusCode.Unauthorized, await PlaceAsync(null, "sec-alice"));
        await AssertStatusAsync(HttpStatusCode.Forbidden, await PlaceAsync(Seller, "sec-seller"));
        await AssertStatusAsync(HttpStatusCode.Forbidden, await PlaceAsync(Admin, "sec-admin"));

        // A body naming another user is refused, and nothing is written for anyone.
        var before = await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM orders WHERE user_id = 'sec-bob'");
        await AssertStatusAsync(HttpStatusCode.Forbidden, await PlaceAsync(Alice, "sec-bob"));
        Assert.Equal(before, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM orders WHERE user_id = 'sec-bob'"));

        // Without a userId the order is the token's subject's; with the matching one, too.
        var implicitUser = await AcceptedAsync(await PlaceAsync(Alice, null));
        var explicitUser = await AcceptedAsync(await PlaceAsync(Alice, "sec-alice"));
        foreach (var id in new[] { implicitUser, explicitUser })
            Assert.Equal("sec-alice", (await stack.WaitSettledAsync(id)).UserId);
    }

    [Fact]
    public async Task Another_users_order_answers_404_exactly_as_a_missing_one_for_reading_and_cancelling()
    {
        await stack.SeedAsync("SEC-R", 100);
        var id = await AcceptedAsync(await PlaceAsync(Alice, "sec-alice", "SEC-R"));
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(id)).Status);

        // The owner, an admin and a seller (who ships orders) read it; nobody anonymous.
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/orders/{id}", Alice)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/orders/{id}", Admin)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/orders/{id}", Seller)).StatusCode);
        await AssertStatusAsync(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Get, $"/orders/{id}", null));

        // Bob gets what an unknown id gets, body and all: the id tells him nothing.
        var othersOrder = await SendAsync(HttpMethod.Get, $"/orders/{id}", Bob);
        var unknown = await SendAsync(HttpMethod.Get, $"/orders/{Guid.NewGuid()}", Bob);
        Assert.Equal((HttpStatusCode.NotFound, HttpStatusCode.NotFound), (othersOrder.StatusCode, unknown.StatusCode));
        Assert.Equal(await ProblemTitleAsync(unknown), await ProblemTitleAsync(othersOrder));
        // The materializer, asked directly, applies the same rule.
        await AssertStatusAsync(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Get, $"/orders/{id}", Bob, service: stack.Materializer));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, $"/orders/{id}", Alice, service: stack.Materializer)).StatusCode);

        // Cancelling: only the owner. Bob's attempt is a 404 and changes nothing; an admin's is a 403.
        var cancel = new { reason = "not mine" };
        await AssertStatusAsync(HttpStatusCode.NotFound, await SendAsync(HttpMethod.Post, $"/orders/{id}/cancel", Bob, cancel));
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Post, $"/orders/{id}/cancel", Admin, cancel));
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Post, $"/orders/{id}/cancel", Seller, cancel));
        Assert.Equal(0, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM order_cancellations WHERE order_id = @id", new { id }));
        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(HttpMethod.Post, $"/orders/{id}/cancel", Alice, new { reason = "mine" })).StatusCode);
        Assert.Equal(OrderStatus.Cancelled, (await Eventually.Get(async () =>
        {
            var view = await (await SendAsync(HttpMethod.Get, $"/orders/{id}", Alice)).Content.ReadFromJsonAsync<OrderView>(EventJson.Options);
            return view?.Status == OrderStatus.Cancelled ? view : null;
        }, TimeSpan.FromSeconds(30), "the owner's cancel to settle"))!.Status);
    }

    [Fact]
    public async Task A_customer_lists_only_their_own_orders_and_an_admin_lists_anyones()
    {
        await stack.SeedAsync("SEC-L", 100);
        var alices = await AcceptedAsync(await PlaceAsync(Alice, "sec-alice", "SEC-L"));
        var bobs = await AcceptedAsync(await PlaceAsync(Bob, "sec-bob", "SEC-L"));
        await stack.WaitSettledAsync(alices);
        await stack.WaitSettledAsync(bobs);

        var own = await Eventually.Get(async () => await ListAsync("/orders?limit=200", Alice) is { } ids && ids.Contains(alices) ? ids : null,
            TimeSpan.FromSeconds(30), "alice's order in her list");
        Assert.DoesNotContain(bobs, own);
        Assert.All(await ListUsersAsync("/orders?limit=200", Alice), u => Assert.Equal("sec-alice", u));
        Assert.Contains(alices, (await ListAsync("/orders?userId=sec-alice&limit=200", Alice))!);

        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Get, "/orders?userId=sec-bob", Alice));
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Get, "/orders?userId=sec-alice&userId=sec-bob", Alice));
        await AssertStatusAsync(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Get, "/orders", null));
        // The materializer, asked directly, refuses the same.
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Get, "/orders?userId=sec-bob", Alice, service: stack.Materializer));

        Assert.Contains(bobs, (await ListAsync("/orders?userId=sec-bob&limit=200", Admin))!);
        var everyone = (await ListAsync("/orders?limit=200", Admin))!;
        Assert.Contains(alices, everyone);
        Assert.Contains(bobs, everyone);
        // A seller, who ships them, lists every order too.
        var sellers = (await ListAsync("/orders?limit=200", Seller))!;
        Assert.Contains(alices, sellers);
        Assert.Contains(bobs, sellers);
        // The stuck orders are an operator's view.
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Get, "/orders/stuck", Alice));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/orders/stuck", Admin)).StatusCode);
        // So are the confirmed orders not shipped in time.
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Get, "/orders/unshipped", Alice));
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Get, "/orders/unshipped", Seller));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/orders/unshipped", Admin)).StatusCode);
    }

    [Fact]
    public async Task Only_a_seller_ships_an_order()
    {
        await stack.SeedAsync("SEC-SH", 100);
        var id = await AcceptedAsync(await PlaceAsync(Alice, "sec-alice", "SEC-SH"));
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(id)).Status);

        // The customer who owns it, an admin and nobody anonymous may not; a problem each time, and nothing recorded.
        await AssertStatusAsync(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Post, $"/orders/{id}/ship", null));
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Post, $"/orders/{id}/ship", Alice));
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Post, $"/orders/{id}/ship", Admin));
        Assert.Equal(0, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM order_shipments WHERE order_id = @id", new { id }));

        Assert.Equal(HttpStatusCode.Accepted, (await SendAsync(HttpMethod.Post, $"/orders/{id}/ship", Seller)).StatusCode);
        Assert.Equal("sec-seller", await stack.QueryOneAsync<string>("gateway", "SELECT requested_by FROM order_shipments WHERE order_id = @id", new { id }));
        // Fulfilment is reached through the gateway only: its admin endpoints want an admin too.
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Get, "/admin/fulfilment/status", Seller));
    }

    [Fact]
    public async Task Any_signed_in_user_reads_stock_and_only_a_seller_changes_it()
    {
        await stack.SeedAsync("SEC-S", 10);
        foreach (var token in new[] { Alice, Seller, Admin })
            Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/inventory/SEC-S", token)).StatusCode);
        await AssertStatusAsync(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Get, "/inventory", null));

        foreach (var (method, body) in new (HttpMethod, object)[] { (HttpMethod.Post, new { quantity = 5, reason = "r" }), (HttpMethod.Put, new { level = 50, reason = "r" }) })
        {
            await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(method, "/inventory/SEC-S", Alice, body));
            await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(method, "/inventory/SEC-S", Admin, body));
            await AssertStatusAsync(HttpStatusCode.Unauthorized, await SendAsync(method, "/inventory/SEC-S", null, body));
            // Inventory asked directly refuses the same.
            await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(method, "/inventory/SEC-S", Alice, body, stack.Inventory));
        }
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Post, "/inventory/SEC-S/restock", Alice, new { quantity = 5 }, stack.Inventory));
        Assert.Equal(new Orders.Stock("SEC-S", 10, 0, 0, 10), await (await SendAsync(HttpMethod.Get, "/inventory/SEC-S", Alice)).Content.ReadFromJsonAsync<Orders.Stock>());

        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Post, "/inventory/SEC-S", Seller, new { quantity = 5, reason = "delivery" })).StatusCode);
        var set = await SendAsync(HttpMethod.Put, "/inventory/SEC-S", Seller, new { level = 50, reason = "count" });
        Assert.Equal(new Orders.Stock("SEC-S", 50, 0, 0, 50), await set.Content.ReadFromJsonAsync<Orders.Stock>());
    }

    [Fact]
    public async Task Every_saga_services_admin_endpoints_take_only_an_admin_through_the_gateway_and_directly()
    {
        foreach (var service in Catalogue.SagaServices)
        {
            var path = $"/admin/{service.Key}/status";
            foreach (var (where, target) in new[] { ("via the gateway", stack.Gateway), ("directly", stack.ByKey[service.Key]) })
            {
                var what = $"{path} {where}";
                await AssertStatusAsync(HttpStatusCode.Unauthorized, await SendAsync(HttpMethod.Get, path, null, service: target), what);
                await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Get, path, Alice, service: target), what);
                await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Get, path, Seller, service: target), what);
                Assert.True((await SendAsync(HttpMethod.Get, path, Admin, service: target)).IsSuccessStatusCode, $"{what}: admin refused");
            }
        }
        // An operator action with a customer's token changes nothing.
        await AssertStatusAsync(HttpStatusCode.Forbidden, await SendAsync(HttpMethod.Put, "/admin/payment/settings", Alice, new { declineRate = 1.0 }));
        var settings = await (await SendAsync(HttpMethod.Get, "/admin/payment/settings", Admin)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0.0, settings.GetProperty("declineRate").GetDouble());
    }

    public static TheoryData<string> BadTokens => ["missing", "garbage", "tampered", "alg none", "HS256 with the public key", "expired", "wrong audience", "wrong issuer", "another key"];

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task A_bad_token_is_401_problem_json_with_WWW_Authenticate_on_the_gateway_and_on_each_service(string kind)
    {
        var token = BadToken(kind);
        foreach (var (service, path) in new[] { (stack.Gateway, "/orders?limit=1"), (stack.Gateway, "/admin/gateway/status"), (stack.Inventory, "/inventory"), (stack.Materializer, "/orders?limit=1") })
        {
            var response = await SendAsync(HttpMethod.Get, path, token, service: service);
            await AssertStatusAsync(HttpStatusCode.Unauthorized, response, $"{kind} token on {service.Name}{path}");
            var challenge = Assert.Single(response.Headers.WwwAuthenticate);
            Assert.Equal("Bearer", challenge.Scheme);
            // A token that was sent and refused is named as invalid (RFC 6750); a missing one is only asked for.
            Assert.Equal(kind != "missing", challenge.Parameter?.Contains("error=\"invalid_token\"") == true);
        }
    }

    [Fact]
    public async Task The_same_user_with_a_valid_token_is_let_in_so_the_refusals_are_the_tokens_doing()
    {
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/orders?limit=1", Admin)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, "/inventory", Admin, service: stack.Inventory)).StatusCode);
        // Probes and the metrics scrape stay open: orchestrators and Prometheus hold no token.
        foreach (var service in stack.Services)
            foreach (var path in new[] { "/healthz", "/readyz", "/metrics" })
                Assert.Equal(HttpStatusCode.OK, (await SendAsync(HttpMethod.Get, path, null, service: service)).StatusCode);
    }

    private static string? BadToken(string kind)
    {
        var valid = TestIdentity.Admin("sec-bad");
        var request = new TokenRequest("sec-bad", ["admin"], TimeSpan.FromMinutes(10));
        return kind switch
        {
            "missing" => null,
            "garbage" => "not-a-jwt-at-all",
            // The payload says customer-turned-admin, the signature is the original one's.
            "tampered" => Tampered(valid),
            "alg none" => $"{Base64Url("""{"alg":"none","typ":"JWT"}""")}.{valid.Split('.')[1]}.",
            // The algorithm-confusion attack: the public key (which anyone may have) used as an HMAC secret.
            "HS256 with the public key" => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = LocalIdentity.DefaultIssuer, Audience = LocalIdentity.DefaultAudience, Expires = DateTime.UtcNow.AddMinutes(10),
                Claims = new Dictionary<string, object> { ["sub"] = "sec-bad", ["roles"] = new[] { "admin" } },
                SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(File.ReadAllBytes(TestIdentity.Issuer.PublicKeyFile)), SecurityAlgorithms.HmacSha256),
            }),
            // Well past the 30 s of clock skew allowed.
            "expired" => TestIdentity.Issuer.Issue(request with { IssuedAt = DateTimeOffset.UtcNow.AddHours(-1) }),
            "wrong audience" => TestIdentity.Issuer.Issue(request with { Audience = "some-other-system" }),
            "wrong issuer" => TestIdentity.Issuer.Issue(request with { Issuer = "https://issuer.example" }),
            "another key" => LocalIdentity.Create(Path.Combine(Path.GetTempPath(), $"orderstream-other-key-{Guid.NewGuid():N}")).Issue(request),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    private static string Tampered(string token)
    {
        var parts = token.Split('.');
        var payload = Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(parts[1])).Replace("sec-bad", "sec-evil");
        return $"{parts[0]}.{Base64Url(payload)}.{parts[2]}";
    }

    private static string Base64Url(string text) => Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(text);

    private Task<HttpResponseMessage> PlaceAsync(string? token, string? userId, string sku = "SEC-P")
    {
        object body = userId is null
            ? new { currency = "EUR", items = new[] { new { sku, qty = 1, price = 1.00m } } }
            : Orders.Body(userId, (sku, 1, 1.00m));
        return SendAsync(HttpMethod.Post, "/orders", token, body);
    }

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? token, object? body = null, ServiceProcess? service = null)
    {
        // A plain client: the harness's acting client would add a token of its own.
        using var http = stack.Client(token, service);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null) request.Content = JsonContent.Create(body);
        var response = await http.SendAsync(request);
        await response.Content.LoadIntoBufferAsync();
        return response;
    }

    private static async Task<Guid> AcceptedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<Orders.Accepted>())!.OrderId;
    }

    private async Task<List<Guid>?> ListAsync(string path, string token)
    {
        var response = await SendAsync(HttpMethod.Get, path, token);
        if (response.StatusCode != HttpStatusCode.OK) return null;
        var page = await response.Content.ReadFromJsonAsync<JsonElement>();
        return [.. page.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("orderId").GetGuid())];
    }

    private async Task<List<string>> ListUsersAsync(string path, string token)
    {
        var page = await (await SendAsync(HttpMethod.Get, path, token)).Content.ReadFromJsonAsync<JsonElement>();
        return [.. page.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("userId").GetString()!)];
    }

    private static async Task<string?> ProblemTitleAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString();

    private static async Task AssertStatusAsync(HttpStatusCode expected, HttpResponseMessage response, string? what = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{what}: expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, JsonDocument.Parse(text).RootElement.GetProperty("status").GetInt32());
        if (expected == HttpStatusCode.Unauthorized) Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }
}
