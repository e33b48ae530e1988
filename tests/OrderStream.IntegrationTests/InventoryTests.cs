using System.Text.Json;
using System.Net.Http.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.IntegrationTests;

public sealed class InventoryFixture : ServiceFixture
{
    protected override string Name => "inventory";
}

public sealed class InventoryTests(InventoryFixture inventory) : IClassFixture<InventoryFixture>
{
    private sealed record Stock(string Sku, long Available, long Reserved, long Sold, long Received);

    private async Task SeedAsync(string sku, long quantity) =>
        (await inventory.Http.PostAsJsonAsync($"/inventory/{sku}/restock", new { quantity })).EnsureSuccessStatusCode();

    private async Task<Stock> StockAsync(string sku) => (await inventory.Http.GetFromJsonAsync<Stock>($"/inventory/{sku}"))!;

    private static OrderCreatedV1 Order(params (string Sku, int Qty)[] lines) =>
        new(Guid.CreateVersion7(), "u", lines.Select(l => new OrderLine(l.Sku, l.Qty, 1m)).ToList(), lines.Sum(l => l.Qty), "EUR", DateTimeOffset.UtcNow);

    [Fact]
    public async Task Reserves_every_line_of_an_order_or_none()
    {
        await SeedAsync("I-A", 5);
        await SeedAsync("I-B", 1);
        var fits = Order(("I-A", 2), ("I-B", 1));
        await inventory.Kafka.ProduceEventAsync(fits);
        var reserved = (await inventory.WaitForEventsAsync(Topics.InventoryReserved, fits.OrderId)).Single();
        Assert.Equal(fits.Items, reserved.Payload.Deserialize<InventoryReservedV1>(EventJson.Options)!.Items);

        var tooMuch = Order(("I-A", 1), ("I-B", 1));
        await inventory.Kafka.ProduceEventAsync(tooMuch);
        var failed = (await inventory.WaitForEventsAsync(Topics.InventoryFailed, tooMuch.OrderId)).Single().Payload.Deserialize<InventoryFailedV1>(EventJson.Options)!;
        Assert.Equal((FailureReasons.OutOfStock, "I-B"), (failed.Reason, failed.Sku));

        // The failed order took nothing, not even the line that was in stock.
        Assert.Equal(new Stock("I-A", 3, 2, 0, 5), await StockAsync("I-A"));
        Assert.Equal(new Stock("I-B", 0, 1, 0, 1), await StockAsync("I-B"));
    }

    [Fact]
    public async Task A_redelivered_event_is_applied_once()
    {
        await SeedAsync("I-C", 10);
        var order = Order(("I-C", 3));
        var eventId = Guid.CreateVersion7();
        await inventory.Kafka.ProduceEventAsync(order, eventId);
        await inventory.Kafka.ProduceEventAsync(order, eventId);
        await inventory.WaitForEventsAsync(Topics.InventoryReserved, order.OrderId);
        await inventory.WaitCaughtUpAsync("inventory", Topics.OrderCreated);

        Assert.Single(inventory.EventsOf(Topics.InventoryReserved, order.OrderId));
        Assert.Equal(new Stock("I-C", 7, 3, 0, 10), await StockAsync("I-C"));
        Assert.Equal(1, await inventory.QueryOneAsync<long>("SELECT count(*) FROM inbox WHERE event_id = @eventId", new { eventId }));
    }

    [Fact]
    public async Task An_authorized_payment_sells_the_reservation_and_a_failed_one_releases_it()
    {
        await SeedAsync("I-D", 10);
        var sold = Order(("I-D", 2));
        var released = Order(("I-D", 3));
        await inventory.Kafka.ProduceEventAsync(sold);
        await inventory.Kafka.ProduceEventAsync(released);
        await inventory.WaitForEventsAsync(Topics.InventoryReserved, sold.OrderId);
        await inventory.WaitForEventsAsync(Topics.InventoryReserved, released.OrderId);
        Assert.Equal(new Stock("I-D", 5, 5, 0, 10), await StockAsync("I-D"));

        await inventory.Kafka.ProduceEventAsync(new PaymentAuthorizedV1(sold.OrderId, Guid.CreateVersion7(), 2m, "EUR"));
        await inventory.Kafka.ProduceEventAsync(new PaymentFailedV1(released.OrderId, Guid.CreateVersion7(), FailureReasons.PaymentDeclined));
        var release = (await inventory.WaitForEventsAsync(Topics.InventoryReleased, released.OrderId)).Single().Payload.Deserialize<InventoryReleasedV1>(EventJson.Options)!;
        Assert.Equal([new SkuQuantity("I-D", 3)], release.Items);
        await Eventually.True(async () => await StockAsync("I-D") == new Stock("I-D", 8, 0, 2, 10), TimeSpan.FromSeconds(10), "sale and release");

        // A second payment outcome for a closed reservation changes nothing.
        await inventory.Kafka.ProduceEventAsync(new PaymentFailedV1(sold.OrderId, Guid.CreateVersion7(), FailureReasons.PaymentDeclined));
        await inventory.WaitCaughtUpAsync("inventory", Topics.PaymentFailed);
        Assert.Equal(new Stock("I-D", 8, 0, 2, 10), await StockAsync("I-D"));
        Assert.Empty(inventory.EventsOf(Topics.InventoryReleased, sold.OrderId));
    }

    [Fact]
    public async Task A_malformed_message_is_dead_lettered_and_the_partition_moves_on()
    {
        await SeedAsync("I-E", 10);
        var poison = await inventory.Kafka.ProduceRawAsync(Topics.OrderCreated, "not-an-order", "{\"eventId\":"u8.ToArray(), partition: 0);
        var order = Order(("I-E", 1));
        var body = OrderStream.Messaging.Outbox.Serialize(OrderStream.Messaging.OutgoingEvent.For(order), Guid.CreateVersion7(), null, DateTimeOffset.UtcNow);
        await inventory.Kafka.ProduceRawAsync(Topics.OrderCreated, order.OrderId.ToString(), body, partition: 0);

        await inventory.WaitForEventsAsync(Topics.InventoryReserved, order.OrderId);
        var letter = await Eventually.Get(() => Task.FromResult(inventory.Kafka.ReadAll(Topics.DeadLetter(Topics.OrderCreated))
            .FirstOrDefault(m => m.Message.Headers.TryGetLastBytes(OrderStream.Messaging.DeadLetterHeaders.OriginalOffset, out var o)
                                 && System.Text.Encoding.UTF8.GetString(o) == poison.Offset.Value.ToString())), TimeSpan.FromSeconds(10), "the dead letter");
        Assert.Equal(poison.Message.Value, letter.Message.Value);
    }
}
