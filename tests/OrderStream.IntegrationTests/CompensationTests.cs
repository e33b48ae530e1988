using System.Net.Http.Json;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.IntegrationTests;

/// <summary>Inventory with a short saga deadline, so a reservation without a payment result is released within seconds.</summary>
public sealed class ShortDeadlineInventoryFixture : ServiceFixture
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(3);
    protected override string Name => "inventory";
    protected override IEnumerable<KeyValuePair<string, string>> Settings =>
        [new("Saga__Deadline", Deadline.ToString("c")), new("Saga__ScanInterval", "00:00:00.500")];
}

public sealed class InventoryDeadlineTests(ShortDeadlineInventoryFixture inventory) : IClassFixture<ShortDeadlineInventoryFixture>
{
    private sealed record Stock(string Sku, long Available, long Reserved, long Sold, long Received);

    private Task SeedAsync(string sku, long quantity) => OrderStreamStack.SeedAsync(inventory.Http, sku, quantity);

    private async Task<Stock> StockAsync(string sku) => (await inventory.Http.GetFromJsonAsync<Stock>($"/inventory/{sku}"))!;

    private static OrderCreatedV1 Order(string sku, int qty) =>
        new(Guid.CreateVersion7(), "u", [new OrderLine(sku, qty, 1m)], qty, "EUR", DateTimeOffset.UtcNow);

    private static T Payload<T>(Envelope e) => e.Payload.Deserialize<T>(EventJson.Options)!;

    private Task<string> HoldAsync(Guid orderId) =>
        inventory.QueryOneAsync<string>("SELECT status || coalesce(' ' || reason, '') FROM inventory_orders WHERE order_id = @orderId", new { orderId });

    [Fact]
    public async Task The_deadline_releases_a_reservation_once_and_a_late_authorization_sells_nothing()
    {
        await SeedAsync("X-1", 10);
        var order = Order("X-1", 4);
        await inventory.Kafka.ProduceEventAsync(order);
        await inventory.WaitForEventsAsync(Topics.InventoryReserved, order.OrderId);

        var release = Payload<InventoryReleasedV1>((await inventory.WaitForEventsAsync(Topics.InventoryReleased, order.OrderId)).Single());
        Assert.Equal([new SkuQuantity("X-1", 4)], release.Items);
        Assert.Equal(FailureReasons.SagaTimeout, release.Reason);
        Assert.Equal(new Stock("X-1", 10, 0, 0, 10), await StockAsync("X-1"));
        Assert.Equal("RELEASED SAGA_TIMEOUT", await HoldAsync(order.OrderId));
        var age = await inventory.QueryOneAsync<double>(
            "SELECT EXTRACT(EPOCH FROM r.updated_at - o.reserved_at)::float8 FROM inventory_orders o JOIN reservations r USING (order_id) WHERE order_id = @OrderId", new { order.OrderId });
        Assert.True(age >= ShortDeadlineInventoryFixture.Deadline.TotalSeconds, $"released {age:0.###} s after the reservation");

        // The payment result arrives after the deadline: no sale, no second release.
        await inventory.Kafka.ProduceEventAsync(new PaymentAuthorizedV1(order.OrderId, Guid.CreateVersion7(), 4m, "EUR"));
        await inventory.Kafka.ProduceEventAsync(new PaymentFailedV1(order.OrderId, Guid.CreateVersion7(), FailureReasons.PaymentDeclined));
        await inventory.WaitCaughtUpAsync("inventory", Topics.PaymentAuthorized, Topics.PaymentFailed);
        Assert.Empty(inventory.EventsOf(Topics.InventorySold, order.OrderId));
        Assert.Single(inventory.EventsOf(Topics.InventoryReleased, order.OrderId));
        Assert.Equal(new Stock("X-1", 10, 0, 0, 10), await StockAsync("X-1"));
        Assert.Equal("RELEASED", await inventory.QueryOneAsync<string>("SELECT status FROM reservations WHERE order_id = @OrderId", new { order.OrderId }));
    }
}

/// <summary>Cancels against inventory with the default deadline (minutes), so no release here is the deadline's.</summary>
public sealed class InventoryCancelTests(InventoryFixture inventory) : IClassFixture<InventoryFixture>
{
    private sealed record Stock(string Sku, long Available, long Reserved, long Sold, long Received);

    private Task SeedAsync(string sku, long quantity) => OrderStreamStack.SeedAsync(inventory.Http, sku, quantity);

    private async Task<Stock> StockAsync(string sku) => (await inventory.Http.GetFromJsonAsync<Stock>($"/inventory/{sku}"))!;

    private static OrderCreatedV1 Order(string sku, int qty) =>
        new(Guid.CreateVersion7(), "u", [new OrderLine(sku, qty, 1m)], qty, "EUR", DateTimeOffset.UtcNow);

    private static T Payload<T>(Envelope e) => e.Payload.Deserialize<T>(EventJson.Options)!;

    private Task<string> HoldAsync(Guid orderId) =>
        inventory.QueryOneAsync<string>("SELECT status || coalesce(' ' || reason, '') FROM inventory_orders WHERE order_id = @orderId", new { orderId });

    [Fact]
    public async Task A_cancel_releases_a_reservation_returns_a_sale_and_closes_an_order_not_seen_yet()
    {
        await SeedAsync("X-3", 20);
        var reserved = Order("X-3", 2);
        var sold = Order("X-3", 5);
        await inventory.Kafka.ProduceEventAsync(reserved);
        await inventory.Kafka.ProduceEventAsync(sold);
        await inventory.WaitForEventsAsync(Topics.InventoryReserved, reserved.OrderId);
        await inventory.WaitForEventsAsync(Topics.InventoryReserved, sold.OrderId);
        await inventory.Kafka.ProduceEventAsync(new PaymentAuthorizedV1(sold.OrderId, Guid.CreateVersion7(), 5m, "EUR"));
        await inventory.WaitForEventsAsync(Topics.InventorySold, sold.OrderId);
        Assert.Equal(new Stock("X-3", 13, 2, 5, 20), await StockAsync("X-3"));

        // Cancelled before order.created reached inventory (they travel on different topics).
        var early = Order("X-3", 1);
        await inventory.Kafka.ProduceEventAsync(new OrderCancelRequestedV1(early.OrderId, null, DateTimeOffset.UtcNow));
        var closed = Payload<InventoryReleasedV1>((await inventory.WaitForEventsAsync(Topics.InventoryReleased, early.OrderId)).Single());
        Assert.Empty(closed.Items);
        Assert.Equal(FailureReasons.Cancelled, closed.Reason);
        await inventory.Kafka.ProduceEventAsync(early);

        await inventory.Kafka.ProduceEventAsync(new OrderCancelRequestedV1(reserved.OrderId, "r", DateTimeOffset.UtcNow));
        await inventory.Kafka.ProduceEventAsync(new OrderCancelRequestedV1(sold.OrderId, "r", DateTimeOffset.UtcNow));
        var released = Payload<InventoryReleasedV1>((await inventory.WaitForEventsAsync(Topics.InventoryReleased, reserved.OrderId)).Single());
        Assert.Equal([new SkuQuantity("X-3", 2)], released.Items);
        Assert.Equal(FailureReasons.Cancelled, released.Reason);
        var returned = Payload<InventoryReturnedV1>((await inventory.WaitForEventsAsync(Topics.InventoryReturned, sold.OrderId)).Single());
        Assert.Equal([new SkuQuantity("X-3", 5)], returned.Items);
        Assert.Equal(FailureReasons.Cancelled, returned.Reason);
        await inventory.WaitCaughtUpAsync("inventory", Topics.OrderCreated, Topics.OrderCancelRequested);

        // A returned sale is available again; the early-cancelled order was never reserved.
        Assert.Equal(new Stock("X-3", 20, 0, 0, 20), await StockAsync("X-3"));
        Assert.Empty(inventory.EventsOf(Topics.InventoryReserved, early.OrderId));
        Assert.Equal(("RELEASED CANCELLED", "RELEASED CANCELLED", "RETURNED CANCELLED"),
            (await HoldAsync(early.OrderId), await HoldAsync(reserved.OrderId), await HoldAsync(sold.OrderId)));
        Assert.Equal("RETURNED", await inventory.QueryOneAsync<string>("SELECT status FROM reservations WHERE order_id = @OrderId", new { sold.OrderId }));
    }

    [Fact]
    public async Task A_second_cancel_or_a_cancel_of_a_failed_order_changes_nothing()
    {
        await SeedAsync("X-4", 3);
        var order = Order("X-4", 2);
        var tooBig = Order("X-4", 50);
        await inventory.Kafka.ProduceEventAsync(order);
        await inventory.Kafka.ProduceEventAsync(tooBig);
        await inventory.WaitForEventsAsync(Topics.InventoryReserved, order.OrderId);
        await inventory.WaitForEventsAsync(Topics.InventoryFailed, tooBig.OrderId);

        // Two requests (two event ids) for one order, and one for an order that failed.
        await inventory.Kafka.ProduceEventAsync(new OrderCancelRequestedV1(order.OrderId, "a", DateTimeOffset.UtcNow));
        await inventory.Kafka.ProduceEventAsync(new OrderCancelRequestedV1(order.OrderId, "b", DateTimeOffset.UtcNow));
        await inventory.Kafka.ProduceEventAsync(new OrderCancelRequestedV1(tooBig.OrderId, null, DateTimeOffset.UtcNow));
        await inventory.WaitForEventsAsync(Topics.InventoryReleased, order.OrderId);
        await inventory.WaitCaughtUpAsync("inventory", Topics.OrderCancelRequested);

        Assert.Single(inventory.EventsOf(Topics.InventoryReleased, order.OrderId));
        Assert.Empty(inventory.EventsOf(Topics.InventoryReleased, tooBig.OrderId));
        Assert.Equal("FAILED OUT_OF_STOCK", await HoldAsync(tooBig.OrderId));
        Assert.Equal(new Stock("X-4", 3, 0, 0, 3), await StockAsync("X-4"));
    }
}
