using System.Text.Json;
using System.Net.Http.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.IntegrationTests;

public sealed class InventoryFixture : ServiceFixture
{
    protected override string Name => "inventory";

    // The consumer reports each batch transaction at Debug: the backlog test shows batches really formed.
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Logging__LogLevel__OrderStream.Messaging.Consumer", "Debug")];
}

public sealed class InventoryTests(InventoryFixture inventory) : IClassFixture<InventoryFixture>
{
    private sealed record Stock(string Sku, long Available, long Reserved, long Sold, long Received);

    private Task SeedAsync(string sku, long quantity) => OrderStreamStack.SeedAsync(inventory.Http, sku, quantity);

    private async Task<Stock> StockAsync(string sku) => (await inventory.Http.GetFromJsonAsync<Stock>($"/inventory/{sku}"))!;

    /// <summary>An order's lines as inventory prices them: one per SKU, in SKU order, at the catalogue's price.</summary>
    private static List<PricedLine> Priced(IEnumerable<OrderLine> items) =>
        [.. items.GroupBy(i => i.Sku).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new PricedLine(g.Key, g.Sum(i => i.Qty), OrderStreamStack.DefaultPrice))];

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
        // Priced from the catalogue (the order's own price, 1, decides nothing).
        Assert.Equal(Priced(fits.Items), reserved.Payload.Deserialize<InventoryReservedV2>(EventJson.Options)!.Lines);

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
    public async Task An_order_decided_meanwhile_by_another_transaction_is_decided_again_from_what_that_one_left()
    {
        // Inventory inserts the row of an order it decides about for the first time. Here another
        // transaction (as another instance reading the order's cancel could) inserts that row, RELEASED
        // by a cancel, between inventory's load and its insert: the insert waits for it and fails on the
        // key, and the order.created is applied again onto the RELEASED row, which reserves nothing.
        await SeedAsync("I-R", 5);
        var order = Order(("I-R", 2));
        await using var other = new Npgsql.NpgsqlConnection(inventory.ConnectionString);
        await other.OpenAsync();
        await using var tx = await other.BeginTransactionAsync();
        await using (var cancel = new Npgsql.NpgsqlCommand("INSERT INTO inventory_orders (order_id, status, reason) VALUES (@id, 'RELEASED', @reason)", other, tx))
        {
            cancel.Parameters.AddWithValue("id", order.OrderId);
            cancel.Parameters.AddWithValue("reason", FailureReasons.Cancelled);
            await cancel.ExecuteNonQueryAsync();
        }

        var eventId = Guid.CreateVersion7();
        await inventory.Kafka.ProduceEventAsync(order, eventId);
        await Eventually.True(async () => await inventory.QueryOneAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()") > 0,
            TimeSpan.FromSeconds(10), "inventory's insert to wait for the other transaction's row");
        await tx.CommitAsync();

        await Eventually.True(async () => await inventory.QueryOneAsync<long>("SELECT count(*) FROM inbox WHERE event_id = @eventId", new { eventId }) == 1,
            TimeSpan.FromSeconds(10), "the order.created to be applied");
        Assert.Equal("RELEASED", await inventory.QueryOneAsync<string>("SELECT status FROM inventory_orders WHERE order_id = @id", new { id = order.OrderId }));
        Assert.Equal(0, await inventory.QueryOneAsync<long>("SELECT count(*) FROM reservations WHERE order_id = @id", new { id = order.OrderId }));
        Assert.Equal(new Stock("I-R", 5, 0, 0, 5), await StockAsync("I-R"));
        Assert.Equal(0, await inventory.QueryOneAsync<long>("SELECT count(*) FROM outbox WHERE msg_key = @id", new { id = order.OrderId.ToString() }));
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

    [Fact]
    public async Task A_backlog_decided_in_batches_reserves_sells_releases_and_returns_exactly_what_one_at_a_time_would()
    {
        await SeedAsync("I-H", 30);   // hot: 40 orders of 1 want it
        await SeedAsync("I-M1", 100); // multi-line orders
        await SeedAsync("I-M2", 100);
        await SeedAsync("I-X", 10);   // cancelled in the same backlog as their order.created
        var hot = Enumerable.Range(0, 40).Select(_ => Order(("I-H", 1))).ToList();
        var multi = Enumerable.Range(0, 10).Select(_ => Order(("I-M1", 1), ("I-M2", 2), ("I-M1", 1))).ToList();
        var cancelledEarly = Enumerable.Range(0, 5).Select(_ => Order(("I-X", 1))).ToList();
        var unknown = Order(("I-M1", 1), ("I-NOPE", 1));
        var all = hot.Concat(multi).Concat(cancelledEarly).Append(unknown).Select(o => o.OrderId).ToHashSet();
        // Each topic is read once per check, not once per order.
        ILookup<Guid, T> Read<T>(string topic) where T : IEvent =>
            inventory.EventsByOrder(topic, all).SelectMany(g => g.Select(e => (g.Key, Event: e.Payload.Deserialize<T>(EventJson.Options)!))).ToLookup(e => e.Key, e => e.Event);

        // Stopped, so each backlog is waiting when the consumer starts and many events share a transaction.
        var copies = new List<Func<Task>>();
        async Task Produce<TEvent>(TEvent evt) where TEvent : IEvent
        {
            var eventId = Guid.CreateVersion7();
            await inventory.Kafka.ProduceEventAsync(evt, eventId);
            if (copies.Count < 25) copies.Add(() => inventory.Kafka.ProduceEventAsync(evt, eventId));
        }
        async Task ApplyBacklogAsync(Func<Task> produce, params string[] topics)
        {
            await inventory.Service.StopAsync();
            copies.Clear();
            await produce();
            foreach (var copy in copies) await copy(); // redeliveries change nothing
            await inventory.Service.StartAsync();
            await inventory.WaitCaughtUpAsync("inventory", topics);
        }

        await ApplyBacklogAsync(async () =>
        {
            foreach (var order in hot.Concat(multi).Append(unknown)) await Produce(order);
            foreach (var order in cancelledEarly)
            {
                await Produce(order);
                await Produce(new OrderCancelRequestedV1(order.OrderId, "changed my mind", DateTimeOffset.UtcNow));
            }
        }, Topics.OrderCreated, Topics.OrderCancelRequested);

        var (reserved, failed, released) = (Read<InventoryReservedV2>(Topics.InventoryReserved), Read<InventoryFailedV1>(Topics.InventoryFailed), Read<InventoryReleasedV1>(Topics.InventoryReleased));
        var reservedHot = hot.Where(o => reserved[o.OrderId].Count() == 1).ToList();
        var failedHot = hot.Where(o => failed[o.OrderId] is var f && f.Count() == 1 && f.Single().Reason == FailureReasons.OutOfStock).ToList();
        Assert.Equal((30, 10), (reservedHot.Count, failedHot.Count));
        Assert.Empty(reservedHot.Intersect(failedHot));
        foreach (var order in multi)
            Assert.Equal(Priced(order.Items), reserved[order.OrderId].Single().Lines);
        Assert.Equal((FailureReasons.UnknownSku, "I-NOPE"), failed[unknown.OrderId].Single() is var u ? (u.Reason, u.Sku) : default);
        foreach (var order in cancelledEarly)
        {
            // Either the cancel came first (closed, nothing reserved) or second (reserved, then released): one release either way.
            var release = released[order.OrderId].Single();
            Assert.Equal(FailureReasons.Cancelled, release.Reason);
            Assert.Equal(reserved[order.OrderId].Count(), release.Items.Count);
        }
        Assert.Equal(new Stock("I-H", 0, 30, 0, 30), await StockAsync("I-H"));
        Assert.Equal(new Stock("I-M1", 80, 20, 0, 100), await StockAsync("I-M1"));
        Assert.Equal(new Stock("I-M2", 80, 20, 0, 100), await StockAsync("I-M2"));
        Assert.Equal(new Stock("I-X", 10, 0, 0, 10), await StockAsync("I-X"));
        // The service's output is per process, so it is counted before each restart.
        var batches = inventory.Service.CountOutput("applied in one transaction");
        var oneByOne = inventory.Service.CountOutput("applying them one by one");

        // Second backlog: payment results and cancels for the reserved orders, each order one outcome.
        var (sell, decline, cancel) = (reservedHot[..10].Concat(multi).ToList(), reservedHot[10..20], reservedHot[20..25]);
        await ApplyBacklogAsync(async () =>
        {
            foreach (var order in sell) await Produce(new PaymentAuthorizedV1(order.OrderId, Guid.CreateVersion7(), order.Amount, "EUR"));
            foreach (var order in decline) await Produce(new PaymentFailedV1(order.OrderId, Guid.CreateVersion7(), FailureReasons.PaymentDeclined));
            foreach (var order in cancel) await Produce(new OrderCancelRequestedV1(order.OrderId, null, DateTimeOffset.UtcNow));
        }, Topics.PaymentAuthorized, Topics.PaymentFailed, Topics.OrderCancelRequested);

        var (sold, releasedNow) = (Read<InventorySoldV1>(Topics.InventorySold), Read<InventoryReleasedV1>(Topics.InventoryReleased));
        foreach (var order in sell)
            Assert.Equal(multi.Contains(order) ? [new SkuQuantity("I-M1", 2), new SkuQuantity("I-M2", 2)] : [new SkuQuantity("I-H", 1)], sold[order.OrderId].Single().Items);
        foreach (var (orders, reason) in new[] { (decline, FailureReasons.PaymentDeclined), (cancel, FailureReasons.Cancelled) })
        foreach (var order in orders)
        {
            var release = releasedNow[order.OrderId].Single();
            Assert.Equal(reason, release.Reason);
            Assert.Equal([new SkuQuantity("I-H", 1)], release.Items);
        }
        Assert.Equal(new Stock("I-H", 15, 5, 10, 30), await StockAsync("I-H"));
        Assert.Equal(new Stock("I-M1", 80, 0, 20, 100), await StockAsync("I-M1"));
        Assert.Equal(new Stock("I-M2", 80, 0, 20, 100), await StockAsync("I-M2"));
        batches += inventory.Service.CountOutput("applied in one transaction");
        oneByOne += inventory.Service.CountOutput("applying them one by one");

        // Third: a confirmed order cancelled goes back to stock.
        var returned = multi[0];
        await ApplyBacklogAsync(() => Produce(new OrderCancelRequestedV1(returned.OrderId, null, DateTimeOffset.UtcNow)), Topics.OrderCancelRequested);
        var giveBack = Read<InventoryReturnedV1>(Topics.InventoryReturned)[returned.OrderId].Single();
        Assert.Equal([new SkuQuantity("I-M1", 2), new SkuQuantity("I-M2", 2)], giveBack.Items);
        Assert.Equal(new Stock("I-M1", 82, 0, 18, 100), await StockAsync("I-M1"));

        // The books in the database agree line by line, and no row is left NEW.
        var ids = all.ToArray();
        Assert.Equal(0, await inventory.QueryOneAsync<long>("SELECT count(*) FROM inventory_orders WHERE order_id = ANY(@ids) AND status = 'NEW'", new { ids }));
        Assert.Equal(10 + 10 - 1, await inventory.QueryOneAsync<long>("SELECT count(*) FROM inventory_orders WHERE order_id = ANY(@ids) AND status = 'SOLD'", new { ids }));
        Assert.Equal(5, await inventory.QueryOneAsync<long>("SELECT sum(qty) FROM reservations WHERE sku = 'I-H' AND status = 'RESERVED'"));
        Assert.Equal(18, await inventory.QueryOneAsync<long>("SELECT sum(qty) FROM reservations WHERE sku = 'I-M1' AND status = 'SOLD'"));

        // Several events were decided in one transaction each, never replayed one by one.
        Assert.True(batches >= 2, $"{batches} batch transactions (log: {inventory.Service.LogFile})");
        Assert.Equal(0, oneByOne);
    }
}
