using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

/// <summary>A stack whose operators call a confirmed order late after 2 s without a shipment (Fulfilment__ShipWithin).</summary>
public sealed class FulfilmentStack : OrderStreamStack
{
    public const int ShipWithinSeconds = 2;

    protected override IReadOnlyDictionary<string, string> ExtraSettings(string service) =>
        service == Catalogue.OrderMaterializer.Name
            ? new Dictionary<string, string> { ["Fulfilment__ShipWithin"] = TimeSpan.FromSeconds(ShipWithinSeconds).ToString("c") }
            : new Dictionary<string, string>();
}

/// <summary>
/// POST /orders/{id}/ship end to end: CONFIRMED → SHIPPED through fulfilment, idempotent, refused before confirmation
/// and after a cancel, a cancel refused after it, and a ship and a cancel racing on one order: exactly one wins. The
/// books are checked after each.
/// </summary>
public sealed class FulfilmentTests(FulfilmentStack stack, ITestOutputHelper output) : IClassFixture<FulfilmentStack>
{
    private async Task<Guid> ConfirmedAsync(string user, string sku, int qty = 1)
    {
        var id = await stack.PlaceAsync(Orders.Body(user, (sku, qty, 2.50m)));
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(id)).Status);
        return id;
    }

    private Task<long> CountAsync(string db, string topic, Guid id) =>
        stack.QueryOneAsync<long>(db, "SELECT count(*) FROM outbox WHERE topic = @Topic AND msg_key = @Key", new { Topic = topic, Key = id.ToString() });

    [Fact]
    public async Task A_seller_ships_a_confirmed_order_and_it_becomes_SHIPPED_with_the_dispatch_in_its_timeline()
    {
        await stack.SeedAsync("F-1", 10);
        var id = await ConfirmedAsync("fay", "F-1", 3);

        var accepted = await Fulfilment.ShipAcceptedAsync(await stack.ShipAsync(id));
        Assert.Equal((id, "test-seller"), (accepted.OrderId, accepted.RequestedBy));

        var view = await stack.WaitStatusAsync(id, OrderStatus.Shipped);
        Assert.Null(view.Reason);
        Assert.Contains(view.Timeline, t => t.Type == Topics.OrderShipRequested);
        Assert.Contains(view.Timeline, t => t.Type == Topics.ShipmentDispatched);
        // The goods stay sold (they left through fulfilment), the payment stays captured.
        Assert.Equal(new Orders.Stock("F-1", 7, 0, 3, 10), await stack.StockAsync("F-1"));
        Assert.Equal("AUTHORIZED", await stack.QueryOneAsync<string>("payment", "SELECT status FROM payments WHERE order_id = @id", new { id }));
        Assert.Equal(ShipmentStatus.Dispatched, await stack.QueryOneAsync<string>("fulfilment", "SELECT status FROM shipments WHERE order_id = @id", new { id }));
        // A shipped order is settled for polling clients, and its owner reads it as SHIPPED.
        Assert.Equal(OrderStatus.Shipped, (await stack.WaitSettledAsync(id)).Status);
        await stack.AssertBooksBalanceAsync(output);
    }

    [Fact]
    public async Task Shipping_twice_or_at_once_gets_the_first_answer_and_dispatches_once()
    {
        await stack.SeedAsync("F-2", 10);
        var id = await ConfirmedAsync("gus", "F-2");

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => stack.ShipAsync(id)));
        var first = Assert.Single((await Task.WhenAll(concurrent.Select(Fulfilment.ShipAcceptedAsync))).Distinct());
        await stack.WaitStatusAsync(id, OrderStatus.Shipped);
        Assert.Equal(first, await Fulfilment.ShipAcceptedAsync(await stack.ShipAsync(id)));

        await stack.AssertBooksBalanceAsync(output);
        Assert.Equal(1, await CountAsync("gateway", Topics.OrderShipRequested, id));
        Assert.Equal(1, await CountAsync("fulfilment", Topics.ShipmentDispatched, id));
        Assert.Single((await stack.WaitSettledAsync(id)).Timeline, t => t.Type == Topics.ShipmentDispatched);
    }

    [Fact]
    public async Task Shipping_an_order_that_is_not_confirmed_is_409_and_records_nothing()
    {
        await stack.SeedAsync("F-3", 10);
        var declined = await stack.PlaceAsync(Orders.Body("decline-hal", ("F-3", 1, 2.50m)));
        var outOfStock = await stack.PlaceAsync(Orders.Body("hal", ("F-3", 500, 2.50m)));
        Assert.Equal(OrderStatus.Failed, (await stack.WaitSettledAsync(declined)).Status);
        Assert.Equal(OrderStatus.Failed, (await stack.WaitSettledAsync(outOfStock)).Status);
        foreach (var id in new[] { declined, outOfStock })
            Assert.Contains(OrderStatus.Failed, await Fulfilment.ProblemAsync(await stack.ShipAsync(id), HttpStatusCode.Conflict));

        // Payment down: the order waits PENDING with its stock reserved, and a ship request is refused.
        Guid pending;
        await stack.Payment.StopAsync();
        try
        {
            pending = await stack.PlaceAsync(Orders.Body("hal", ("F-3", 1, 2.50m)));
            await stack.WaitTimelineAsync(pending, Topics.InventoryReserved);
            Assert.Contains(OrderStatus.Pending, await Fulfilment.ProblemAsync(await stack.ShipAsync(pending), HttpStatusCode.Conflict));
        }
        finally
        {
            await stack.Payment.StartAsync();
        }
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(pending)).Status);

        await Fulfilment.ProblemAsync(await stack.ShipAsync(Guid.NewGuid()), HttpStatusCode.NotFound);
        await Fulfilment.ProblemAsync(await stack.Http.PostAsync("/orders/not-a-uuid/ship", null), HttpStatusCode.BadRequest);
        Assert.Equal(0, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM order_shipments WHERE order_id IN (@declined, @outOfStock, @pending)",
            new { declined, outOfStock, pending }));
        await stack.AssertBooksBalanceAsync(output);
    }

    [Fact]
    public async Task Shipping_after_a_cancel_request_is_409_even_before_the_cancel_settled()
    {
        await stack.SeedAsync("F-4", 10);
        var id = await ConfirmedAsync("ida", "F-4", 2);

        await Compensation.AcceptedAsync(await stack.CancelAsync(id, new { reason = "no longer needed" }));
        Assert.Contains("cancelled", await Fulfilment.ProblemAsync(await stack.ShipAsync(id), HttpStatusCode.Conflict));
        await stack.WaitStatusAsync(id, OrderStatus.Cancelled);
        await stack.WaitTimelineAsync(id, Topics.InventoryReturned, Topics.PaymentRefunded);
        await Fulfilment.ProblemAsync(await stack.ShipAsync(id), HttpStatusCode.Conflict);

        await stack.AssertBooksBalanceAsync(output);
        Assert.Equal(0, await CountAsync("gateway", Topics.OrderShipRequested, id));
        Assert.Equal(new Orders.Stock("F-4", 10, 0, 0, 10), await stack.StockAsync("F-4"));
        // Fulfilment saw the sale and its return: nothing awaits dispatch.
        Assert.Equal(ShipmentStatus.Cancelled, await Eventually.Get(async () =>
            (await stack.QueryAsync<string>("fulfilment", "SELECT status FROM shipments WHERE order_id = @id", new { id })) is [ShipmentStatus.Cancelled] ? ShipmentStatus.Cancelled : null,
            TimeSpan.FromSeconds(30), "fulfilment to cancel the shipment"));
    }

    [Fact]
    public async Task Cancelling_a_shipped_order_is_409_and_it_stays_shipped()
    {
        await stack.SeedAsync("F-5", 10);
        var id = await ConfirmedAsync("jon", "F-5", 2);

        await Fulfilment.ShipAcceptedAsync(await stack.ShipAsync(id));
        // At once, before the dispatch: the ship request holds the order.
        Assert.Contains("shipped", await Fulfilment.ProblemAsync(await stack.CancelAsync(id, new { reason = "too late" }), HttpStatusCode.Conflict));
        await stack.WaitStatusAsync(id, OrderStatus.Shipped);
        Assert.Contains(OrderStatus.Shipped, await Fulfilment.ProblemAsync(await stack.CancelAsync(id), HttpStatusCode.Conflict));

        await stack.AssertBooksBalanceAsync(output);
        Assert.Equal(0, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM order_cancellations WHERE order_id = @id", new { id }));
        Assert.Equal(new Orders.Stock("F-5", 8, 0, 2, 10), await stack.StockAsync("F-5"));
        Assert.Equal(OrderStatus.Shipped, (await stack.WaitSettledAsync(id)).Status);
    }

    [Fact]
    public async Task A_ship_and_a_cancel_racing_on_one_order_serialize_and_exactly_one_wins()
    {
        await stack.SeedAsync("F-6", 100);
        var ids = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => ConfirmedAsync($"race-{i}", "F-6")));

        var outcomes = await Task.WhenAll(ids.Select(async id =>
        {
            var ship = stack.ShipAsync(id);
            var cancel = stack.CancelAsync(id, new { reason = "race" });
            var (shipped, cancelled) = (await ship, await cancel);
            output.WriteLine($"{id}: ship {(int)shipped.StatusCode}, cancel {(int)cancelled.StatusCode}");
            // Exactly one of the two is accepted; the other is a 409 problem.
            Assert.True((shipped.StatusCode == HttpStatusCode.Accepted) != (cancelled.StatusCode == HttpStatusCode.Accepted),
                $"{id}: ship {shipped.StatusCode}, cancel {cancelled.StatusCode}");
            await Fulfilment.ProblemAsync(shipped.StatusCode == HttpStatusCode.Accepted ? cancelled : shipped, HttpStatusCode.Conflict);
            return (Id: id, Shipped: shipped.StatusCode == HttpStatusCode.Accepted);
        }));

        foreach (var (id, shipped) in outcomes)
            await stack.WaitStatusAsync(id, shipped ? OrderStatus.Shipped : OrderStatus.Cancelled);
        output.WriteLine($"{outcomes.Count(o => o.Shipped)} shipped, {outcomes.Count(o => !o.Shipped)} cancelled");
        await stack.AssertBooksBalanceAsync(output);
    }

    [Fact]
    public async Task Operators_see_confirmed_orders_not_shipped_in_time_and_a_shipped_one_leaves_the_list()
    {
        await stack.SeedAsync("F-7", 10);
        var waiting = await ConfirmedAsync("kim", "F-7");
        var shipped = await ConfirmedAsync("kim", "F-7");
        await Fulfilment.ShipAcceptedAsync(await stack.ShipAsync(shipped));
        await stack.WaitStatusAsync(shipped, OrderStatus.Shipped);

        // Listed once it has been confirmed longer than Fulfilment__ShipWithin (2 s here), oldest first, like the stuck orders.
        var unshipped = (await Eventually.Get<JsonElement?>(async () =>
        {
            var list = await stack.Admin.GetFromJsonAsync<JsonElement>("/orders/unshipped");
            return list.GetProperty("orders").EnumerateArray().Any(o => o.GetProperty("orderId").GetGuid() == waiting) ? list : null;
        }, TimeSpan.FromSeconds(30), "the waiting order in /orders/unshipped")).GetValueOrDefault();
        Assert.Equal(FulfilmentStack.ShipWithinSeconds, unshipped.GetProperty("olderThanSeconds").GetDouble());
        Assert.DoesNotContain(unshipped.GetProperty("orders").EnumerateArray(), o => o.GetProperty("orderId").GetGuid() == shipped);
        var entry = unshipped.GetProperty("orders").EnumerateArray().Single(o => o.GetProperty("orderId").GetGuid() == waiting);
        Assert.True(entry.GetProperty("ageSeconds").GetDouble() >= FulfilmentStack.ShipWithinSeconds);
        Assert.False(entry.GetProperty("shipRequested").GetBoolean());

        // /admin/system counts them, with the setting it counted by.
        var system = await stack.Admin.GetFromJsonAsync<SystemStatus>("/admin/system", EventJson.Options);
        Assert.True(system!.Orders.Unshipped >= 1, $"unshipped {system.Orders.Unshipped}");
        Assert.Equal(FulfilmentStack.ShipWithinSeconds, system.Orders.ShipWithinSeconds);
        Assert.Contains(system.Services, s => s.Name == Catalogue.Fulfilment.Key && s.Up);

        // Shipped, it leaves the list.
        await Fulfilment.ShipAcceptedAsync(await stack.ShipAsync(waiting));
        await stack.WaitStatusAsync(waiting, OrderStatus.Shipped);
        var after = await stack.Admin.GetFromJsonAsync<JsonElement>("/orders/unshipped");
        Assert.DoesNotContain(after.GetProperty("orders").EnumerateArray(), o => o.GetProperty("orderId").GetGuid() == waiting);
    }
}
