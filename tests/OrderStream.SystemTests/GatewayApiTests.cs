using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

public sealed class GatewayApiTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    [Fact]
    public async Task Each_outcome_settles_with_its_reason_and_a_declined_order_gives_its_stock_back()
    {
        await stack.SeedAsync("G-1", 10, price: 9.99m); // the catalogue price the assertions below expect

        var confirmed = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("alice", ("G-1", 2, 9.99m))));
        var outOfStock = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("bob", ("G-1", 100, 9.99m))));
        var unknownSku = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("bob", ("G-1", 1, 9.99m), ("NO-SUCH-SKU", 1, 1m))));
        var declinedId = await stack.PlaceAsync(Orders.Body("decline-carol", ("G-1", 3, 9.99m)));
        var declined = await stack.WaitSettledAsync(declinedId);

        Assert.Equal((OrderStatus.Confirmed, (string?)null), (confirmed.Status, confirmed.Reason));
        Assert.Equal(19.98m, confirmed.Amount);
        Assert.Equal([new OrderLine("G-1", 2, 9.99m)], confirmed.Items!);
        Assert.Equal([Topics.OrderCreated, Topics.InventoryReserved, Topics.PaymentAuthorized, Topics.InventorySold], confirmed.Timeline.Select(t => t.Type));
        Assert.NotNull(confirmed.SettledAt);
        Assert.Equal((OrderStatus.Failed, FailureReasons.OutOfStock), (outOfStock.Status, outOfStock.Reason));
        Assert.Equal((OrderStatus.Failed, FailureReasons.UnknownSku), (unknownSku.Status, unknownSku.Reason));
        Assert.Equal((OrderStatus.Failed, FailureReasons.PaymentDeclined), (declined.Status, declined.Reason));

        var stock = await Eventually.Get(async () =>
        {
            var s = await stack.Http.GetFromJsonAsync<Orders.Stock>("/inventory/G-1");
            return s!.Reserved == 0 ? s : null;
        }, TimeSpan.FromSeconds(10), "the declined order's reservation to be released");
        Assert.Equal(new Orders.Stock("G-1", 8, 0, 2, 10), stock);
        // The release reaches the materializer one hop after inventory applied it: wait for it in the timeline.
        await Eventually.True(async () => (await stack.WaitSettledAsync(declinedId)).Timeline.Any(t => t.Type == Topics.InventoryReleased),
            TimeSpan.FromSeconds(10), "inventory.released.v1 in the declined order's timeline");
    }

    [Fact]
    public async Task An_order_answers_202_with_Retry_After_until_it_settles()
    {
        await stack.SeedAsync("G-2", 5);
        await stack.Inventory.StopAsync();
        Guid id;
        try
        {
            id = await stack.PlaceAsync(Orders.Body("dave", ("G-2", 1, 1.50m)));
            var response = await stack.Http.GetAsync($"/orders/{id}");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
            var pending = await response.Content.ReadFromJsonAsync<OrderView>(EventJson.Options);
            Assert.Equal((id, OrderStatus.Pending), (pending!.OrderId, pending.Status));
        }
        finally
        {
            await stack.Inventory.StartAsync();
        }
        // Inventory picks up where its group left off, and the order settles.
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(id)).Status);
    }

    [Fact]
    public async Task A_poll_of_a_pending_order_waits_for_it_to_settle_so_a_client_asking_nonstop_makes_one_request_not_hundreds()
    {
        await stack.SeedAsync("G-WAIT", 5);
        // Payment takes 2 s: the order stays pending that long, and a client asking without a pause asks on.
        (await stack.Admin.PutAsJsonAsync("/admin/payment/settings", new { extraLatencyMs = 2000 })).EnsureSuccessStatusCode();
        try
        {
            var id = await stack.PlaceAsync(Orders.Body("erin", ("G-WAIT", 1, 1.50m)));
            var now = await GetAsync(id, "wait=0");
            Assert.Equal((HttpStatusCode.Accepted, "wait=0"), (now.StatusCode, now.Headers.GetValues("Preference-Applied").Single()));

            var requests = 0;
            HttpResponseMessage response;
            do
            {
                response = await GetAsync(id, "wait=20");
                requests++;
            }
            while (response.StatusCode == HttpStatusCode.Accepted && requests < 100);

            // The answer came when the order settled, not at once.
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(OrderStatus.Confirmed, (await response.Content.ReadFromJsonAsync<OrderView>(EventJson.Options))!.Status);
            Assert.Equal(1, requests);
        }
        finally
        {
            (await stack.Admin.PutAsJsonAsync("/admin/payment/settings", new { extraLatencyMs = 0 })).EnsureSuccessStatusCode();
        }

        Task<HttpResponseMessage> GetAsync(Guid id, string prefer)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"/orders/{id}");
            request.Headers.Add("Prefer", prefer);
            return stack.Http.SendAsync(request);
        }
    }

    [Fact]
    public async Task Invalid_orders_get_a_400_problem_naming_each_bad_field()
    {
        var response = await PostJsonAsync("""
            {"userId":"","currency":"EURO","items":[{"sku":"A","qty":0,"price":1},{"sku":"","qty":1.5,"price":1.234},{"sku":"B","qty":20000,"price":-1}]}
            """);
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        var fields = problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Equal(new[] { "userId", "currency", "items[0].qty", "items[1].sku", "items[1].qty", "items[1].price", "items[2].qty", "items[2].price" }.Order(), fields.Order());

        var amount = await ProblemAsync(await PostJsonAsync("""{"userId":"u","currency":"EUR","amount":10,"items":[{"sku":"A","qty":3,"price":3}]}"""), HttpStatusCode.BadRequest);
        Assert.True(amount.GetProperty("errors").TryGetProperty("amount", out _));

        var tooMany = "{\"userId\":\"u\",\"currency\":\"EUR\",\"items\":[" + string.Join(',', Enumerable.Repeat("{\"sku\":\"A\",\"qty\":1,\"price\":1}", 101)) + "]}";
        Assert.True((await ProblemAsync(await PostJsonAsync(tooMany), HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("items", out _));
        await ProblemAsync(await PostJsonAsync("[]"), HttpStatusCode.BadRequest);
        await ProblemAsync(await PostJsonAsync("{\"userId\": "), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Wrong_media_type_is_415_and_a_body_over_64_KiB_is_413()
    {
        await ProblemAsync(await stack.Http.PostAsync("/orders", new StringContent("userId=u", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType);
        var big = "{\"userId\":\"u\",\"pad\":\"" + new string('x', 70 * 1024) + "\"}";
        await ProblemAsync(await PostJsonAsync(big), HttpStatusCode.RequestEntityTooLarge);
        // Without Content-Length (chunked), the limit still holds.
        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentType = new("application/json");
        var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        await ProblemAsync(await stack.Http.SendAsync(request), HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task An_idempotency_key_replays_the_same_order_and_rejects_a_different_body()
    {
        var body = Orders.Body("erin", ("G-3", 1, 2.00m));
        var first = await PostWithKeyAsync(body, "key-1");
        var again = await PostWithKeyAsync(body, "key-1");
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        Assert.Equal(first.Headers.Location, again.Headers.Location);

        await ProblemAsync(await PostWithKeyAsync(Orders.Body("erin", ("G-3", 2, 2.00m)), "key-1"), HttpStatusCode.UnprocessableEntity);
        // A quoted price decides nothing (the catalogue prices the order), so a retry quoting another is the same order.
        var requoted = await PostWithKeyAsync(Orders.Body("erin", ("G-3", 1, 3.00m)), "key-1");
        Assert.Equal((HttpStatusCode.Accepted, first.Headers.Location), (requoted.StatusCode, requoted.Headers.Location));
        // The key belongs to its user: another user with the same key gets an order of their own.
        var otherUser = await PostWithKeyAsync(Orders.Body("frank", ("G-3", 1, 2.00m)), "key-1");
        Assert.Equal(HttpStatusCode.Accepted, otherUser.StatusCode);
        Assert.NotEqual(first.Headers.Location, otherUser.Headers.Location);
        // ... and never sees the first user's stored response: not its order id, not its order.
        var erinsId = (await first.Content.ReadFromJsonAsync<Orders.Accepted>())!.OrderId;
        Assert.DoesNotContain(erinsId.ToString(), await otherUser.Content.ReadAsStringAsync());
        var franksOrder = await stack.Http.GetFromJsonAsync<OrderView>(otherUser.Headers.Location, EventJson.Options);
        Assert.Equal("frank", franksOrder!.UserId);
        Assert.Equal(2, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM orders WHERE idempotency_key = 'key-1'"));

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => PostWithKeyAsync(body, "key-concurrent")));
        Assert.All(concurrent, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Single(concurrent.Select(r => r.Headers.Location).Distinct());
        Assert.Equal(1, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM orders WHERE idempotency_key = 'key-concurrent'"));
        var orderId = concurrent[0].Headers.Location!.ToString().Split('/').Last();
        Assert.Equal(1, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM outbox WHERE msg_key = @orderId", new { orderId }));

        await ProblemAsync(await PostWithKeyAsync(body, new string('k', 129)), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Unknown_orders_are_404_and_malformed_ids_400()
    {
        await ProblemAsync(await stack.Http.GetAsync($"/orders/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
        await ProblemAsync(await stack.Http.GetAsync("/orders/not-a-uuid"), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Inventory_is_readable_through_the_gateway()
    {
        await stack.SeedAsync("G-4", 7);
        Assert.Equal(new Orders.Stock("G-4", 7, 0, 0, 7), await stack.Http.GetFromJsonAsync<Orders.Stock>("/inventory/G-4"));
        Assert.Contains(await stack.InventoryAsync(), s => s.Sku == "G-4");
        Assert.Equal(HttpStatusCode.NotFound, (await stack.Http.GetAsync("/inventory/NOPE")).StatusCode);
    }

    private Task<HttpResponseMessage> PostJsonAsync(string json) =>
        stack.Http.PostAsync("/orders", new StringContent(json, Encoding.UTF8, "application/json"));

    private Task<HttpResponseMessage> PostWithKeyAsync(object body, string key)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", key);
        return stack.Http.SendAsync(request);
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement;
    }
}
