using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.IntegrationTests;

public sealed class FulfilmentFixture : ServiceFixture
{
    protected override string Name => "fulfilment";
}

/// <summary>
/// Fulfilment alone, fed through Kafka: the sale and the ship request in either order, copies of both, and a returned sale.
/// One dispatch per order, whatever comes and however often.
/// </summary>
public sealed class FulfilmentTests(FulfilmentFixture fulfilment) : IClassFixture<FulfilmentFixture>
{
    private static readonly SkuQuantity[] Items = [new("F-1", 2), new("F-2", 1)];

    private static ShipmentDispatchedV1 Dispatched(Envelope e) => e.Payload.Deserialize<ShipmentDispatchedV1>(EventJson.Options)!;

    private Task<string> StatusAsync(Guid orderId) =>
        fulfilment.QueryOneAsync<string>("SELECT status FROM shipments WHERE order_id = @orderId", new { orderId });

    private Task CaughtUpAsync() => fulfilment.WaitCaughtUpAsync("fulfilment", Topics.InventorySold, Topics.OrderShipRequested, Topics.InventoryReturned);

    [Fact]
    public async Task A_sold_order_waits_for_its_ship_request_then_dispatches_once_with_its_lines_and_seller()
    {
        var orderId = Guid.CreateVersion7();
        await fulfilment.Kafka.ProduceEventAsync(new InventorySoldV1(orderId, Items));
        await CaughtUpAsync();
        Assert.Equal(ShipmentStatus.Awaiting, await StatusAsync(orderId));
        Assert.Empty(fulfilment.EventsOf(Topics.ShipmentDispatched, orderId));

        var requestedAt = DateTimeOffset.UtcNow;
        await fulfilment.Kafka.ProduceEventAsync(new OrderShipRequestedV1(orderId, "sam", requestedAt));
        var dispatched = Dispatched((await fulfilment.WaitForEventsAsync(Topics.ShipmentDispatched, orderId)).Single());
        Assert.Equal((orderId, "sam"), (dispatched.OrderId, dispatched.RequestedBy));
        Assert.Equal(Items, dispatched.Items);
        Assert.Equal(ShipmentStatus.Dispatched, await StatusAsync(orderId));
        Assert.Equal(dispatched.ShipmentId, await fulfilment.QueryOneAsync<Guid>("SELECT shipment_id FROM shipments WHERE order_id = @orderId", new { orderId }));
    }

    [Fact]
    public async Task A_ship_request_that_overtakes_the_sale_is_kept_and_dispatched_when_the_sale_arrives()
    {
        var orderId = Guid.CreateVersion7();
        await fulfilment.Kafka.ProduceEventAsync(new OrderShipRequestedV1(orderId, "sam", DateTimeOffset.UtcNow));
        await CaughtUpAsync();
        Assert.Equal(ShipmentStatus.Requested, await StatusAsync(orderId));
        Assert.Empty(fulfilment.EventsOf(Topics.ShipmentDispatched, orderId));

        await fulfilment.Kafka.ProduceEventAsync(new InventorySoldV1(orderId, Items));
        Assert.Equal(Items, Dispatched((await fulfilment.WaitForEventsAsync(Topics.ShipmentDispatched, orderId)).Single()).Items);
    }

    [Fact]
    public async Task Redelivered_and_repeated_sales_and_requests_never_dispatch_twice()
    {
        var orderId = Guid.CreateVersion7();
        var sold = new InventorySoldV1(orderId, Items);
        var requested = new OrderShipRequestedV1(orderId, "sam", DateTimeOffset.UtcNow);
        var soldId = Guid.CreateVersion7();
        await fulfilment.Kafka.ProduceEventAsync(sold, soldId);
        await fulfilment.Kafka.ProduceEventAsync(requested);
        await fulfilment.WaitForEventsAsync(Topics.ShipmentDispatched, orderId);

        // The same message again (same event id: the inbox skips it) and copies with new ids (the state ignores them).
        await fulfilment.Kafka.ProduceEventAsync(sold, soldId);
        await fulfilment.Kafka.ProduceEventAsync(sold);
        await fulfilment.Kafka.ProduceEventAsync(requested);
        await fulfilment.Kafka.ProduceEventAsync(requested with { RequestedBy = "someone-else" });
        await CaughtUpAsync();
        Assert.Equal("sam", Dispatched(Assert.Single(fulfilment.EventsOf(Topics.ShipmentDispatched, orderId))).RequestedBy);
        Assert.Equal(1, await fulfilment.QueryOneAsync<long>("SELECT count(*) FROM outbox WHERE msg_key = @Key", new { Key = orderId.ToString() }));
    }

    [Fact]
    public async Task A_returned_sale_cancels_the_shipment_and_a_later_request_ships_nothing()
    {
        var returnedAfterSale = Guid.CreateVersion7();
        var returnedBeforeSale = Guid.CreateVersion7();
        await fulfilment.Kafka.ProduceEventAsync(new InventorySoldV1(returnedAfterSale, Items));
        await fulfilment.Kafka.ProduceEventAsync(new InventoryReturnedV1(returnedAfterSale, Items, FailureReasons.Cancelled));
        // Events of two topics may come in either order: a return seen before its sale cancels all the same.
        await fulfilment.Kafka.ProduceEventAsync(new InventoryReturnedV1(returnedBeforeSale, Items, FailureReasons.Cancelled));
        await CaughtUpAsync();
        await fulfilment.Kafka.ProduceEventAsync(new InventorySoldV1(returnedBeforeSale, Items));
        foreach (var id in new[] { returnedAfterSale, returnedBeforeSale })
            await fulfilment.Kafka.ProduceEventAsync(new OrderShipRequestedV1(id, "sam", DateTimeOffset.UtcNow));
        await CaughtUpAsync();

        foreach (var id in new[] { returnedAfterSale, returnedBeforeSale })
        {
            Assert.Equal(ShipmentStatus.Cancelled, await StatusAsync(id));
            Assert.Empty(fulfilment.EventsOf(Topics.ShipmentDispatched, id));
        }
    }
}
