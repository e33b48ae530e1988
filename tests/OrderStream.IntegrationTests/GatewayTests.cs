using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.IntegrationTests;

/// <summary>The gateway alone: the materializer and inventory it would ask are not running.</summary>
public sealed class GatewayFixture : ServiceFixture
{
    protected override string Name => "api-gateway";
    private static readonly string Nowhere = $"http://127.0.0.1:{Repo.FreePort()}";

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [KeyValuePair.Create("Services__Materializer", Nowhere), KeyValuePair.Create("Services__Inventory", Nowhere)];
}

public sealed class GatewayTests(GatewayFixture gateway, ITestOutputHelper output) : IClassFixture<GatewayFixture>
{
    [Fact]
    public async Task An_accepted_order_is_published_once_in_its_envelope_with_routing_headers()
    {
        var response = await gateway.Http.PostAsJsonAsync("/orders", new { userId = "alice", currency = "EUR", items = new[] { new { sku = "S-1", qty = 2, price = 4.25m } } });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var orderId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();
        Assert.Equal($"/orders/{orderId}", response.Headers.Location?.ToString());

        var envelope = (await gateway.WaitForEventsAsync(Topics.OrderCreated, orderId)).Single();
        Assert.Equal(("order.created", 1, orderId.ToString(), (Guid?)null), (envelope.Type, envelope.Version, envelope.CorrelationId, envelope.CausationId));
        var created = envelope.Payload.Deserialize<OrderCreatedV1>(EventJson.Options)!;
        Assert.Equal((orderId, "alice", 8.50m, "EUR"), (created.OrderId, created.UserId, created.Amount, created.Currency));
        Assert.Equal([new OrderLine("S-1", 2, 4.25m)], created.Items);

        var message = gateway.Kafka.ReadAll(Topics.OrderCreated).Single(m => Encoding.UTF8.GetString(m.Message.Key!) == orderId.ToString());
        string Header(string name) => Encoding.UTF8.GetString(message.Message.Headers.GetLastBytes(name));
        Assert.Equal(Topics.OrderCreated, Header(Headers.EventType));
        Assert.Equal(envelope.EventId.ToString(), Header(Headers.EventId));
        await Eventually.True(async () => await gateway.QueryOneAsync<long>("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0,
            TimeSpan.FromSeconds(5), "the outbox row to be marked sent");
    }

    [Fact]
    public async Task Without_the_materializer_a_cached_order_reads_as_pending_an_uncached_one_is_503_and_an_unknown_one_404()
    {
        var response = await gateway.Http.PostAsJsonAsync("/orders", new { userId = "bob", currency = "EUR", items = new[] { new { sku = "S-2", qty = 1, price = 1m } } });
        var location = response.Headers.Location!.ToString();
        var orderId = Guid.Parse(location.Split('/').Last());

        // The gateway caches the pending view of an order it accepts (just after answering): polls read it there.
        var pending = await Eventually.Get(async () =>
        {
            var r = await gateway.Http.GetAsync(location);
            return r.StatusCode == HttpStatusCode.Accepted ? r : null;
        }, TimeSpan.FromSeconds(10), "the accepted order to read as pending");
        Assert.Equal(OrderStatus.Pending, (await pending.Content.ReadFromJsonAsync<OrderView>(EventJson.Options))!.Status);

        // Without that entry only the materializer could say how far the order got, and it cannot be asked.
        await Eventually.True(() => gateway.Redis.DeleteAsync(OrderView.CacheKey(orderId)), TimeSpan.FromSeconds(5), "the cache entry to be deleted");
        var unavailable = await gateway.Http.GetAsync(location);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, unavailable.StatusCode);
        Assert.Equal("application/problem+json", unavailable.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(unavailable.Headers.RetryAfter?.Delta);
        // The gateway's own table is the record of which orders exist.
        Assert.Equal(HttpStatusCode.NotFound, (await gateway.Http.GetAsync($"/orders/{Guid.NewGuid()}")).StatusCode);
    }

    [Fact]
    public async Task While_the_broker_is_down_orders_are_accepted_and_published_once_it_is_back()
    {
        gateway.Kafka.SetBrokerDown();
        Guid orderId;
        try
        {
            var response = await gateway.Http.PostAsJsonAsync("/orders", new { userId = "carl", currency = "EUR", items = new[] { new { sku = "S-3", qty = 1, price = 1m } } });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            orderId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("orderId").GetGuid();

            // Still in rotation (200), but /readyz says Kafka is the problem.
            var ready = await Eventually.Get(async () =>
            {
                var r = await gateway.Http.GetAsync("/readyz");
                var body = await r.Content.ReadAsStringAsync();
                return body == "Degraded" ? r : null;
            }, TimeSpan.FromSeconds(15), "/readyz to report Degraded");
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
            Assert.Equal(1, await gateway.QueryOneAsync<long>("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND msg_key = @id", new { id = orderId.ToString() }));
        }
        finally
        {
            gateway.Kafka.SetBrokerUp();
        }
        Assert.Single(await gateway.WaitForEventsAsync(Topics.OrderCreated, orderId));
    }

    /// <summary>
    /// Group commit: concurrent POSTs share transactions, and every answer is what each request alone would
    /// get. Rows inserted by one transaction share their <c>xmin</c>, which counts the transactions.
    /// </summary>
    [Fact]
    public async Task A_burst_of_concurrent_orders_shares_transactions_and_each_request_gets_its_own_answer()
    {
        var run = $"burst-{Guid.NewGuid():N}"[..14];
        var keyed = run; // the one user of every request with a key
        // 160 new orders without a key; 5 keys sent 4 times with one body; 5 keys sent twice with each of two bodies.
        var requests = Enumerable.Range(0, 160).Select(i => (User: $"{run}-{i}", Key: (string?)null, Qty: 1))
            .Concat(Enumerable.Range(0, 5).SelectMany(k => Enumerable.Repeat((User: keyed, Key: (string?)$"same-{k}", Qty: 1), 4)))
            .Concat(Enumerable.Range(0, 5).SelectMany(k => new[] { 1, 2, 1, 2 }.Select(qty => (User: keyed, Key: (string?)$"clash-{k}", Qty: qty))))
            .OrderBy(_ => Random.Shared.Next()).ToList();

        var results = await BurstAsync(requests);

        var fresh = results.Where(r => r.Key is null).ToList();
        Assert.All(fresh, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
        Assert.Equal(160, fresh.Select(r => r.OrderId).Distinct().Count());
        var created = fresh.Select(r => r.OrderId).ToList();
        foreach (var retries in results.Where(r => r.Key?.StartsWith("same-") == true).GroupBy(r => r.Key))
        {
            Assert.All(retries, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            created.Add(Assert.Single(retries.Select(r => r.OrderId).Distinct()));
        }
        foreach (var clash in results.Where(r => r.Key?.StartsWith("clash-") == true).GroupBy(r => r.Key))
        {
            // Whichever body came first owns the key: its requests share one order, the other body's get 422.
            var winner = Assert.Single(clash.GroupBy(r => r.Qty), body => body.All(r => r.StatusCode == HttpStatusCode.Accepted));
            var orderId = Assert.Single(winner.Select(r => r.OrderId).Distinct());
            Assert.All(clash.Where(r => r.Qty != winner.Key), r =>
            {
                Assert.Equal(HttpStatusCode.UnprocessableEntity, r.StatusCode);
                Assert.Contains(orderId.ToString(), r.Detail);
            });
            created.Add(orderId);
        }
        Assert.Equal(170, created.Distinct().Count());

        // One row per order answered 202 (so one per key), and one order.created row for each.
        await using var db = new NpgsqlConnection(gateway.ConnectionString);
        var rows = (await db.QueryAsync<(Guid OrderId, string? Key, string Xmin)>(
            "SELECT order_id, idempotency_key, xmin::text FROM orders WHERE user_id LIKE @run || '%'", new { run })).ToList();
        Assert.Equal(created.Order(), rows.Select(r => r.OrderId).Order());
        Assert.Equal(10, rows.Count(r => r.Key is not null));
        var events = (await db.QueryAsync<(string Key, long Count)>(
            "SELECT msg_key, count(*) FROM outbox WHERE topic = @topic AND msg_key = ANY(@keys) GROUP BY msg_key",
            new { topic = Topics.OrderCreated, keys = created.Select(id => id.ToString()).ToArray() })).ToList();
        Assert.Equal(created.Select(id => id.ToString()).Order(), events.Select(e => e.Key).Order());
        Assert.All(events, e => Assert.Equal(1, e.Count));

        // One transaction per POST would give 170 distinct xmins.
        var transactions = rows.Select(r => r.Xmin).Distinct().Count();
        output.WriteLine($"{results.Length} concurrent POSTs: {created.Count} orders created in {transactions} transactions");
        Assert.True(transactions <= created.Count / 4, $"{created.Count} orders took {transactions} transactions");
    }

    [Fact]
    public async Task An_order_the_database_refuses_fails_alone_and_the_rest_of_its_batch_is_accepted()
    {
        var run = $"refuse-{Guid.NewGuid():N}"[..15];
        await using var db = new NpgsqlConnection(gateway.ConnectionString);
        // Stands in for a request the database rejects (not transient): a trigger refusing one user's rows.
        await db.ExecuteAsync($"""
            CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.user_id LIKE '{run}-poison%' THEN RAISE EXCEPTION 'refused by the test' USING ERRCODE = 'check_violation'; END IF;
              RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_poison BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION refuse_poison();
            """);
        try
        {
            var retriedAlone = gateway.Service.CountOutput("writing them one by one");
            // 10 refused requests among 40 good ones, interleaved, so refused and good ones share batches.
            var requests = Enumerable.Range(0, 50).Select(i => (User: i % 5 == 2 ? $"{run}-poison-{i}" : $"{run}-{i}", Key: (string?)null, Qty: 1)).ToList();
            var results = await BurstAsync(requests);

            Assert.All(results.Where(r => r.User.Contains("-poison")), r => Assert.Equal(HttpStatusCode.InternalServerError, r.StatusCode));
            var accepted = results.Where(r => !r.User.Contains("-poison")).ToList();
            Assert.All(accepted, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            Assert.Equal(40, accepted.Select(r => r.OrderId).Distinct().Count());
            Assert.Equal(40, await db.QuerySingleAsync<long>("SELECT count(*) FROM orders WHERE user_id LIKE @run || '%'", new { run }));
            Assert.Equal(40, await db.QuerySingleAsync<long>("SELECT count(*) FROM outbox WHERE topic = @topic AND msg_key = ANY(@keys)",
                new { topic = Topics.OrderCreated, keys = accepted.Select(r => r.OrderId.ToString()).ToArray() }));
            Assert.True(gateway.Service.CountOutput("writing them one by one") > retriedAlone, "a failed batch was retried one request at a time");
        }
        finally
        {
            await db.ExecuteAsync("DROP TRIGGER refuse_poison ON orders; DROP FUNCTION refuse_poison()");
        }
    }

    /// <summary>
    /// Sends every request at once while the test holds a lock on <c>orders</c>: the gateway's first write
    /// waits for it, so the rest of the burst queues up behind it. The lock is let go once every request
    /// was sent and a write is waiting.
    /// </summary>
    private async Task<(string User, string? Key, int Qty, HttpStatusCode StatusCode, Guid OrderId, string? Detail)[]> BurstAsync(List<(string User, string? Key, int Qty)> requests)
    {
        await using var blocker = new NpgsqlConnection(gateway.ConnectionString);
        await blocker.OpenAsync();
        var hold = await blocker.BeginTransactionAsync();
        await blocker.ExecuteAsync("LOCK TABLE orders IN SHARE MODE", transaction: hold); // blocks inserts, not reads

        var sent = 0;
        var burst = Task.WhenAll(requests.Select(async r =>
        {
            var body = JsonSerializer.SerializeToUtf8Bytes(new { userId = r.User, currency = "EUR", items = new[] { new { sku = "B-1", qty = r.Qty, price = 1.50m } } });
            var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = new SentContent(body, () => Interlocked.Increment(ref sent)) };
            if (r.Key is not null) request.Headers.Add("Idempotency-Key", r.Key);
            // As its own user, set here: the body must be written only when the request is really sent.
            request.Headers.Authorization = new("Bearer", TestIdentity.Customer(r.User));
            using var response = await gateway.Http.SendAsync(request);
            var json = await response.Content.ReadFromJsonAsync<JsonElement>();
            var orderId = response.StatusCode == HttpStatusCode.Accepted ? json.GetProperty("orderId").GetGuid() : Guid.Empty;
            return (r.User, r.Key, r.Qty, response.StatusCode, orderId, json.TryGetProperty("detail", out var d) ? d.GetString() : null);
        }));
        await Eventually.True(() => Task.FromResult(Volatile.Read(ref sent) == requests.Count), TimeSpan.FromSeconds(60), "every request of the burst sent");
        await Eventually.True(async () => await gateway.QueryOneAsync<long>("SELECT count(*) FROM pg_locks WHERE relation = 'orders'::regclass AND NOT granted") > 0,
            TimeSpan.FromSeconds(60), "an insert waiting for the lock");
        await hold.RollbackAsync();
        return await burst;
    }

    /// <summary>A JSON body that reports when HttpClient has written it to the connection.</summary>
    private sealed class SentContent : HttpContent
    {
        private readonly byte[] _json;
        private readonly Action _sent;

        public SentContent(byte[] json, Action sent)
        {
            (_json, _sent) = (json, sent);
            Headers.ContentType = new("application/json");
        }

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(_json);
            _sent();
        }

        protected override bool TryComputeLength(out long length)
        {
            length = _json.Length;
            return true;
        }
    }
}
