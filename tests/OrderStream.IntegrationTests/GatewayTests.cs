using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.IntegrationTests;

/// <summary>The gateway alone: the materializer and inventory it would ask are not running.</summary>
public sealed class GatewayFixture : ServiceFixture
{
    protected override string Name => "api-gateway";
    private static readonly string Nowhere = $"http://127.0.0.1:{Repo.FreePort()}";

    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [KeyValuePair.Create("Services__Materializer", Nowhere), KeyValuePair.Create("Services__Inventory", Nowhere)];
}

public sealed class GatewayTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>
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
    public async Task Without_the_materializer_an_accepted_order_reads_as_pending_and_an_unknown_one_as_404()
    {
        var response = await gateway.Http.PostAsJsonAsync("/orders", new { userId = "bob", currency = "EUR", items = new[] { new { sku = "S-2", qty = 1, price = 1m } } });
        var location = response.Headers.Location!.ToString();

        var pending = await gateway.Http.GetAsync(location);
        Assert.Equal(HttpStatusCode.Accepted, pending.StatusCode);
        Assert.Equal(OrderStatus.Pending, (await pending.Content.ReadFromJsonAsync<OrderView>(EventJson.Options))!.Status);
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
}
