using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.Messaging;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

/// <summary>
/// Every runtime control, through the gateway's /admin, on a running system. Each test uses SKUs and
/// users of its own and puts every switch back as it found it.
/// </summary>
public sealed class OperatorControlTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Decline_rate_1_set_at_runtime_fails_every_order_and_releases_every_reservation()
    {
        await stack.SeedAsync("OC-DECLINE", 100);
        // (User ids must not start with "decline": that prefix is declined whatever the rate.)
        var set = await stack.Admin.PutAsJsonAsync("/admin/payment/settings", new { declineRate = 1.0 });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        try
        {
            Assert.Equal(1.0, (await stack.Admin.GetFromJsonAsync<JsonElement>("/admin/payment/settings")).GetProperty("declineRate").GetDouble());
            var ids = await Concurrently.ForAllAsync(Enumerable.Range(0, 20), 5, i => stack.PlaceAsync(Orders.Body($"victim-{i}", ("OC-DECLINE", 2, 1.00m))));
            var views = await Concurrently.ForAllAsync(ids, 5, id => stack.WaitSettledAsync(id, Settle));
            Assert.All(views, v => Assert.Equal((OrderStatus.Failed, FailureReasons.PaymentDeclined), (v.Status, v.Reason)));
            await WaitStockAsync("OC-DECLINE", new Orders.Stock("OC-DECLINE", 100, 0, 0, 100));
            Assert.Equal(20, await stack.QueryOneAsync<long>("inventory",
                "SELECT count(*) FROM reservations WHERE sku = 'OC-DECLINE' AND status = 'RELEASED'"));
        }
        finally
        {
            (await stack.Admin.PutAsJsonAsync("/admin/payment/settings", new { declineRate = 0.0 })).EnsureSuccessStatusCode();
        }
        // Back to 0: orders are authorized again.
        var after = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("survivor", ("OC-DECLINE", 1, 1.00m))), Settle);
        Assert.Equal(OrderStatus.Confirmed, after.Status);

        await AssertProblemAsync(await stack.Admin.PutAsJsonAsync("/admin/payment/settings", new { declineRate = 1.5 }), HttpStatusCode.BadRequest);
        await AssertProblemAsync(await stack.Admin.PutAsJsonAsync("/admin/payment/settings", new { extraLatencyMs = -1 }), HttpStatusCode.BadRequest);
        await AssertProblemAsync(await stack.Admin.PutAsync("/admin/payment/settings", new StringContent("{\"declineRate\":\"lots\"}", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Extra_payment_latency_is_shown_and_applied_and_can_be_removed()
    {
        await stack.SeedAsync("OC-SLOW", 10);
        (await stack.Admin.PutAsJsonAsync("/admin/payment/settings", new { extraLatencyMs = 1500 })).EnsureSuccessStatusCode();
        try
        {
            Assert.Equal(1500, (await stack.Admin.GetFromJsonAsync<JsonElement>("/admin/payment/settings")).GetProperty("extraLatencyMs").GetInt32());
            var id = await stack.PlaceAsync(Orders.Body("slowpoke", ("OC-SLOW", 1, 1.00m)));
            var view = await stack.WaitSettledAsync(id, Settle);
            var reserved = view.Timeline.Single(t => t.Type == Topics.InventoryReserved).OccurredAt;
            var authorized = view.Timeline.Single(t => t.Type == Topics.PaymentAuthorized).OccurredAt;
            Assert.True(authorized - reserved >= TimeSpan.FromMilliseconds(1500), $"authorized {(authorized - reserved).TotalMilliseconds} ms after the reservation");
        }
        finally
        {
            (await stack.Admin.PutAsJsonAsync("/admin/payment/settings", new { extraLatencyMs = 0 })).EnsureSuccessStatusCode();
        }
    }

    [Fact]
    public async Task Pausing_inventory_leaves_orders_pending_until_resume_then_all_settle()
    {
        await stack.SeedAsync("OC-PAUSE", 100);
        var paused = await stack.Admin.PostAsync("/admin/inventory/consumer/pause", null);
        Assert.Equal(HttpStatusCode.OK, paused.StatusCode);
        Assert.True((await paused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paused").GetBoolean());
        Guid[] ids;
        try
        {
            var user = "pause-" + Guid.NewGuid().ToString("N")[..8];
            ids = await Concurrently.ForAllAsync(Enumerable.Range(0, 10), 5, _ => stack.PlaceAsync(Orders.Body(user, ("OC-PAUSE", 1, 1.00m))));
            // The materializer reads order.created.v1 as inventory does: once it has folded in all ten,
            // inventory would have reserved them too, had it not been paused.
            await Eventually.True(async () => (await ListAsync($"/orders?userId={user}&limit=100")).Count == 10, Settle, "the materializer to list the ten orders");
            Assert.Equal(0, await stack.QueryOneAsync<long>("inventory", "SELECT count(*) FROM reservations WHERE order_id = ANY(@ids)", new { ids = ids.ToArray() }));
            Assert.All(await ListAsync($"/orders?userId={user}&limit=100"), o => Assert.Equal(OrderStatus.Pending, o.GetProperty("status").GetString()));
            Assert.True((await stack.Admin.GetFromJsonAsync<JsonElement>("/admin/inventory/consumer")).GetProperty("paused").GetBoolean());
            Assert.True(stack.Kafka.Lag("inventory", Topics.OrderCreated) >= 10);
        }
        finally
        {
            var resumed = await stack.Admin.PostAsync("/admin/inventory/consumer/resume", null);
            Assert.False((await resumed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("paused").GetBoolean());
        }
        var views = await Concurrently.ForAllAsync(ids, 5, id => stack.WaitSettledAsync(id, Settle));
        Assert.All(views, v => Assert.Equal(OrderStatus.Confirmed, v.Status));
        await WaitStockAsync("OC-PAUSE", new Orders.Stock("OC-PAUSE", 90, 0, 10, 100));
    }

    [Fact]
    public async Task Read_only_mode_refuses_new_orders_with_503_and_Retry_After_while_reads_still_work()
    {
        await stack.SeedAsync("OC-RO", 10);
        var existing = await stack.PlaceAsync(Orders.Body("ro-user", ("OC-RO", 1, 1.00m)));
        await stack.WaitSettledAsync(existing, Settle);

        (await stack.Admin.PutAsJsonAsync("/admin/gateway/read-only", new { enabled = true, retryAfterSeconds = 7 })).EnsureSuccessStatusCode();
        try
        {
            var state = await stack.Admin.GetFromJsonAsync<JsonElement>("/admin/gateway/read-only");
            Assert.True(state.GetProperty("enabled").GetBoolean());
            var refused = await stack.Http.PostAsJsonAsync("/orders", Orders.Body("ro-user", ("OC-RO", 1, 1.00m)));
            await AssertProblemAsync(refused, HttpStatusCode.ServiceUnavailable);
            Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);

            Assert.Equal(HttpStatusCode.OK, (await stack.Http.GetAsync($"/orders/{existing}")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await stack.Http.GetAsync("/orders?userId=ro-user")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await stack.Http.GetAsync("/inventory/OC-RO")).StatusCode);
        }
        finally
        {
            (await stack.Admin.PutAsJsonAsync("/admin/gateway/read-only", new { enabled = false })).EnsureSuccessStatusCode();
        }
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("ro-user", ("OC-RO", 1, 1.00m))), Settle)).Status);
        // Only the two accepted orders exist.
        Assert.Equal(2, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM orders WHERE user_id = 'ro-user'"));
        await AssertProblemAsync(await stack.Admin.PutAsJsonAsync("/admin/gateway/read-only", new { retryAfterSeconds = 5 }), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Transient_failures_injected_into_30_percent_of_handler_attempts_are_retried_and_every_order_settles()
    {
        await stack.SeedAsync("OC-FLAKY", 100);
        var before = stack.Inventory.CountOutput("Injected failure");
        var set = await stack.Admin.PutAsJsonAsync("/admin/inventory/consumer/failures", new { rate = 0.3, mode = "Transient" });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        try
        {
            var failures = (await stack.Admin.GetFromJsonAsync<JsonElement>("/admin/inventory/consumer")).GetProperty("failures");
            Assert.Equal((0.3, "Transient"), (failures.GetProperty("rate").GetDouble(), failures.GetProperty("mode").GetString()));
            var ids = await Concurrently.ForAllAsync(Enumerable.Range(0, 20), 5, i => stack.PlaceAsync(Orders.Body($"flaky-{i}", ("OC-FLAKY", 1, 1.00m))));
            var views = await Concurrently.ForAllAsync(ids, 5, id => stack.WaitSettledAsync(id, Settle));
            Assert.All(views, v => Assert.Equal(OrderStatus.Confirmed, v.Status));
        }
        finally
        {
            (await stack.Admin.PutAsJsonAsync("/admin/inventory/consumer/failures", new { rate = 0.0 })).EnsureSuccessStatusCode();
        }
        // 40 inventory messages (created + authorized per order) at 30%: failures were injected, and retried.
        Assert.True(stack.Inventory.CountOutput("Injected failure") > before, "no failure was injected");
        await WaitStockAsync("OC-FLAKY", new Orders.Stock("OC-FLAKY", 80, 0, 20, 100));
        Assert.DoesNotContain(stack.Kafka.ReadAll(Topics.DeadLetter(Topics.OrderCreated)), m => Header(m.Message.Headers, DeadLetterHeaders.ErrorMessage)?.Contains("Injected") == true);
    }

    [Fact]
    public async Task Errors_injected_into_every_handler_attempt_dead_letter_the_messages()
    {
        await stack.SeedAsync("OC-BROKEN", 100);
        (await stack.Admin.PutAsJsonAsync("/admin/payment/consumer/failures", new { rate = 1.0, mode = "Error", topic = Topics.InventoryReserved })).EnsureSuccessStatusCode();
        Guid[] ids;
        try
        {
            ids = await Concurrently.ForAllAsync(Enumerable.Range(0, 5), 5, i => stack.PlaceAsync(Orders.Body($"broken-{i}", ("OC-BROKEN", 1, 1.00m))));
            var keys = ids.Select(id => id.ToString()).ToHashSet();
            await Eventually.True(() => Task.FromResult(stack.Kafka.ReadAll(Topics.DeadLetter(Topics.InventoryReserved))
                    .Where(m => keys.Contains(Encoding.UTF8.GetString(m.Message.Key!)))
                    .Count(m => Header(m.Message.Headers, DeadLetterHeaders.ConsumerGroup) == "payment"
                                && Header(m.Message.Headers, DeadLetterHeaders.ErrorMessage)!.StartsWith("Injected failure", StringComparison.Ordinal)) == 5),
                Settle, "the five reservations dead-lettered by payment");
        }
        finally
        {
            (await stack.Admin.PutAsJsonAsync("/admin/payment/consumer/failures", new { rate = 0.0 })).EnsureSuccessStatusCode();
        }
        // Payment decided nothing for them: they wait (PENDING, stock reserved) for a redrive.
        Assert.Equal(0, await stack.QueryOneAsync<long>("payment", "SELECT count(*) FROM payments WHERE order_id = ANY(@ids)", new { ids = ids.ToArray() }));
        foreach (var id in ids) Assert.Equal(HttpStatusCode.Accepted, (await stack.Http.GetAsync($"/orders/{id}")).StatusCode);

        await AssertProblemAsync(await stack.Admin.PutAsJsonAsync("/admin/payment/consumer/failures", new { rate = 0.5, topic = "no.such.topic.v1" }), HttpStatusCode.BadRequest);
        await AssertProblemAsync(await stack.Admin.PutAsJsonAsync("/admin/payment/consumer/failures", new { rate = 2 }), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Adding_and_setting_stock_keeps_the_books_balanced_and_publishes_each_change()
    {
        const string sku = "OC-ADJ";
        // Stock is the seller's (through the gateway); the admin reads the books.
        var added = await stack.Seller.PostAsJsonAsync($"/inventory/{sku}", new { quantity = 10, reason = "first delivery" });
        Assert.Equal(new Orders.Stock(sku, 10, 0, 0, 10), await added.Content.ReadFromJsonAsync<Orders.Stock>());
        // Orders are priced from the catalogue: stock alone is not for sale.
        (await stack.Seller.PutAsJsonAsync($"/products/{sku}", new { name = sku, unitPrice = 1.00m, currency = "EUR" })).EnsureSuccessStatusCode();
        var ids = await Concurrently.ForAllAsync(Enumerable.Range(0, 3), 3, i => stack.PlaceAsync(Orders.Body($"adj-{i}", (sku, 2, 1.00m))));
        await Concurrently.ForAllAsync(ids, 3, id => stack.WaitSettledAsync(id, Settle));
        await WaitStockAsync(sku, new Orders.Stock(sku, 4, 0, 6, 10));

        var set = await stack.Seller.PutAsJsonAsync($"/inventory/{sku}", new { level = 20, reason = "stock count" });
        Assert.Equal(new Orders.Stock(sku, 20, 0, 6, 26), await set.Content.ReadFromJsonAsync<Orders.Stock>());
        var removed = await stack.Seller.PostAsJsonAsync($"/inventory/{sku}", new { quantity = -5, reason = "damaged" });
        Assert.Equal(new Orders.Stock(sku, 15, 0, 6, 21), await removed.Content.ReadFromJsonAsync<Orders.Stock>());

        await AssertProblemAsync(await stack.Seller.PostAsJsonAsync($"/inventory/{sku}", new { quantity = -16 }), HttpStatusCode.Conflict);
        await AssertProblemAsync(await stack.Seller.PutAsJsonAsync($"/inventory/{sku}", new { level = -1 }), HttpStatusCode.BadRequest);
        await AssertProblemAsync(await stack.Seller.PostAsJsonAsync($"/inventory/{sku}", new { quantity = 0 }), HttpStatusCode.BadRequest);
        await AssertProblemAsync(await stack.Seller.PostAsJsonAsync("/inventory/OC-NO-SUCH-SKU", new { quantity = -1 }), HttpStatusCode.NotFound);
        // Setting the level it already has changes nothing and publishes nothing.
        Assert.Equal(HttpStatusCode.OK, (await stack.Seller.PutAsJsonAsync($"/inventory/{sku}", new { level = 15 })).StatusCode);

        var listed = (await stack.Admin.GetFromJsonAsync<List<Orders.Stock>>("/admin/inventory"))!;
        Assert.Equal(new Orders.Stock(sku, 15, 0, 6, 21), listed.Single(s => s.Sku == sku));
        Assert.All(listed, s => Assert.Equal(s.Received, s.Available + s.Reserved + s.Sold));

        // Each change is an inventory.adjusted.v1 event keyed by the SKU, in order.
        var events = await Eventually.Get(() => Task.FromResult<List<InventoryAdjustedV1>?>(stack.Kafka.ReadAll(Topics.InventoryAdjusted)
                .Where(m => Encoding.UTF8.GetString(m.Message.Key!) == sku).OrderBy(m => m.Offset.Value)
                .Select(m => JsonSerializer.Deserialize<Envelope>(m.Message.Value, EventJson.Options)!.Payload.Deserialize<InventoryAdjustedV1>(EventJson.Options)!)
                .ToList() is { Count: 3 } e ? e : null), Settle, "three inventory.adjusted.v1 events");
        Assert.Equal([(10L, AdjustmentKinds.Receipt, 10L), (16L, AdjustmentKinds.Adjustment, 26L), (-5L, AdjustmentKinds.Adjustment, 21L)],
            events.Select(e => (e.Quantity, e.Kind, e.Received)));
        Assert.Equal(15, events[^1].Available);
        Assert.Equal(21, await stack.QueryOneAsync<long>("inventory", "SELECT SUM(quantity)::bigint FROM stock_receipts WHERE sku = @sku", new { sku }));
    }

    [Fact]
    public async Task Listing_orders_pages_newest_first_without_repeats_or_gaps_while_new_orders_arrive()
    {
        await stack.SeedAsync("OC-LIST", 1_000);
        var user = "lister-" + Guid.NewGuid().ToString("N")[..8];
        var first = new List<Guid>();
        for (var i = 0; i < 12; i++) first.Add(await stack.PlaceAsync(Orders.Body(user, ("OC-LIST", 1, 1.00m))));
        await Eventually.True(async () => (await ListAsync($"/orders?userId={user}&limit=100")).Count == 12, Settle, "twelve orders listed");

        var (page, cursor) = await PageAsync($"/orders?userId={user}&limit=5");
        var seen = new List<Guid>(page);
        // Orders placed while paging are newer: they go to the front, and the pages after the cursor do not move.
        var late = new List<Guid>();
        for (var i = 0; i < 3; i++) late.Add(await stack.PlaceAsync(Orders.Body(user, ("OC-LIST", 1, 1.00m))));
        await Eventually.True(async () => (await ListAsync($"/orders?userId={user}&limit=100")).Count == 15, Settle, "fifteen orders listed");
        while (cursor is not null)
        {
            (page, cursor) = await PageAsync($"/orders?userId={user}&limit=5&cursor={cursor}");
            seen.AddRange(page);
        }
        // v7 ids and createdAt both come from the gateway's clock in placing order: newest first is the reverse.
        Assert.Equal(Enumerable.Reverse(first), seen);

        var all = await ListAsync($"/orders?userId={user}&limit=100");
        Assert.Equal(Enumerable.Reverse(first.Concat(late)), all.Select(o => o.GetProperty("orderId").GetGuid()));
        Assert.All(all, o => Assert.Equal(user, o.GetProperty("userId").GetString()));

        await Concurrently.ForAllAsync(first.Concat(late), 5, id => stack.WaitSettledAsync(id, Settle));
        Assert.Equal(15, (await ListAsync($"/orders?userId={user}&status=CONFIRMED&limit=100")).Count);
        Assert.Empty(await ListAsync($"/orders?userId={user}&status=FAILED"));

        foreach (var bad in new[] { "limit=0", "limit=201", "limit=abc", "status=DONE", "cursor=not-a-cursor", "cursor=" + Convert.ToBase64String(Encoding.UTF8.GetBytes("1:2")) })
            await AssertProblemAsync(await stack.Http.GetAsync($"/orders?{bad}"), HttpStatusCode.BadRequest);
    }

    private async Task<List<JsonElement>> ListAsync(string url) =>
        [.. (await stack.Http.GetFromJsonAsync<JsonElement>(url)).GetProperty("items").EnumerateArray()];

    private async Task<(List<Guid> Page, string? Next)> PageAsync(string url)
    {
        var body = await stack.Http.GetFromJsonAsync<JsonElement>(url);
        var next = body.GetProperty("nextCursor");
        return ([.. body.GetProperty("items").EnumerateArray().Select(o => o.GetProperty("orderId").GetGuid())],
            next.ValueKind == JsonValueKind.Null ? null : Uri.EscapeDataString(next.GetString()!));
    }

    private Task WaitStockAsync(string sku, Orders.Stock expected) =>
        Eventually.True(async () => await stack.Http.GetFromJsonAsync<Orders.Stock>($"/inventory/{sku}") == expected, Settle, $"{sku} to be {expected}");

    private static string? Header(Confluent.Kafka.Headers headers, string name) =>
        headers.TryGetLastBytes(name, out var value) ? Encoding.UTF8.GetString(value) : null;

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
