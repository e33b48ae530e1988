using System.Net.Http.Json;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

/// <summary>
/// The catalogue (shared/OrderStream.Contracts/Catalogue.cs) against the running services: each
/// Program.cs subscribes explicitly, and the tools that derive from the catalogue (the checker's lag,
/// the embedded cluster's trimming, the replay test) are right only while the two agree.
/// </summary>
public sealed class CatalogueDriftTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    [Fact]
    public async Task Every_consumer_subscribes_to_exactly_the_topics_the_catalogue_says_it_consumes()
    {
        var consumers = Catalogue.SagaServices.Where(s => s.IsConsumer).ToList();
        Assert.NotEmpty(consumers);
        foreach (var service in consumers)
        {
            var state = await stack.Admin.GetFromJsonAsync<JsonElement>($"/admin/{service.Key}/consumer");
            var topics = state.GetProperty("topics").EnumerateArray().Select(t => t.GetString()!).Order(StringComparer.Ordinal);
            Assert.Equal(service.Consumes.Order(StringComparer.Ordinal), topics);
        }
    }

    [Fact]
    public async Task After_a_confirmed_a_declined_an_out_of_stock_a_cancelled_and_a_shipped_order_every_outbox_row_is_on_a_topic_its_service_produces()
    {
        await stack.SeedAsync("DRIFT-1", 10);
        var shipped = await stack.PlaceAsync(Orders.Body("drift-shipped", ("DRIFT-1", 1, 2.00m)));
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(shipped)).Status);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, (await stack.ShipAsync(shipped)).StatusCode);
        await stack.WaitStatusAsync(shipped, OrderStatus.Shipped);
        var confirmed = await stack.PlaceAsync(Orders.Body("drift-confirmed", ("DRIFT-1", 1, 2.00m)));
        var outOfStock = await stack.PlaceAsync(Orders.Body("drift-short", ("DRIFT-1", 1_000, 2.00m)));
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(confirmed)).Status);
        Assert.Equal(OrderStatus.Failed, (await stack.WaitSettledAsync(outOfStock)).Status);

        (await stack.Admin.PutAsJsonAsync("/admin/payment/settings", new { declineRate = 1.0 })).EnsureSuccessStatusCode();
        try
        {
            var declined = await stack.PlaceAsync(Orders.Body("drift-declined", ("DRIFT-1", 1, 2.00m)));
            Assert.Equal(OrderStatus.Failed, (await stack.WaitSettledAsync(declined)).Status);
        }
        finally
        {
            (await stack.Admin.PutAsJsonAsync("/admin/payment/settings", new { declineRate = 0.0 })).EnsureSuccessStatusCode();
        }

        // Cancelled after it was confirmed: the refund path (inventory returned, payment refunded).
        await Compensation.AcceptedAsync(await stack.CancelAsync(confirmed, new { reason = "drift" }));
        await stack.WaitStatusAsync(confirmed, OrderStatus.Cancelled);
        await stack.WaitTimelineAsync(confirmed, Topics.InventoryReturned, Topics.PaymentRefunded);

        var written = new HashSet<string>();
        foreach (var service in Catalogue.SagaServices)
        {
            var topics = await stack.QueryAsync<string>(service.Database!, "SELECT DISTINCT topic FROM outbox");
            Assert.All(topics, t => Assert.True(service.Produces.Contains(t), $"{service.Name} wrote {t}, which the catalogue does not list in its Produces"));
            written.UnionWith(topics);
        }
        // Not vacuous: the saga's own topics were written, compensation's included.
        Assert.Superset(new HashSet<string> { Topics.OrderCreated, Topics.OrderCancelRequested, Topics.InventoryReserved, Topics.InventoryFailed,
            Topics.InventorySold, Topics.InventoryReturned, Topics.PaymentAuthorized, Topics.PaymentFailed, Topics.PaymentRefunded,
            Topics.OrderShipRequested, Topics.ShipmentDispatched }, written);
    }
}
