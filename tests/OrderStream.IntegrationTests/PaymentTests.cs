using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.IntegrationTests;

public sealed class PaymentFixture : ServiceFixture
{
    protected override string Name => "payment";

    // The consumer reports each batch transaction at Debug: the backlog test shows batches really formed.
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Logging__LogLevel__OrderStream.Messaging.Consumer", "Debug")];
}

public sealed class PaymentTests(PaymentFixture payment) : IClassFixture<PaymentFixture>
{
    private static InventoryReservedV2 Reserved(string userId) =>
        new(Guid.CreateVersion7(), userId, [new PricedLine("P-1", 2, 5.25m)], 10.50m, "EUR");

    /// <summary>The retiring version, as inventory wrote it before the rollout: priced as the order asked.</summary>
    private static InventoryReservedV1 ReservedV1(string userId) =>
        new(Guid.CreateVersion7(), userId, [new OrderLine("P-1", 2, 3.10m)], 6.20m, "EUR");

    [Fact]
    public async Task Authorizes_an_order_and_declines_the_trigger_user()
    {
        var ok = Reserved("alice");
        var declined = Reserved("decline-bob");
        await payment.Kafka.ProduceEventAsync(ok);
        await payment.Kafka.ProduceEventAsync(declined);

        var authorized = (await payment.WaitForEventsAsync(Topics.PaymentAuthorized, ok.OrderId)).Single().Payload.Deserialize<PaymentAuthorizedV1>(EventJson.Options)!;
        Assert.Equal((10.50m, "EUR"), (authorized.Amount, authorized.Currency));
        var failed = (await payment.WaitForEventsAsync(Topics.PaymentFailed, declined.OrderId)).Single().Payload.Deserialize<PaymentFailedV1>(EventJson.Options)!;
        Assert.Equal(FailureReasons.PaymentDeclined, failed.Reason);
        Assert.Equal("DECLINED", await payment.QueryOneAsync<string>("SELECT status FROM payments WHERE order_id = @OrderId", new { declined.OrderId }));
    }

    [Fact]
    public async Task A_release_after_the_authorization_voids_it_and_a_return_refunds_it()
    {
        var late = Reserved("dan");
        var refunded = Reserved("erin");
        await payment.Kafka.ProduceEventAsync(late);
        await payment.Kafka.ProduceEventAsync(refunded);
        var authorized = (await payment.WaitForEventsAsync(Topics.PaymentAuthorized, late.OrderId)).Single().Payload.Deserialize<PaymentAuthorizedV1>(EventJson.Options)!;
        await payment.WaitForEventsAsync(Topics.PaymentAuthorized, refunded.OrderId);

        // The deadline released the stock before inventory saw the authorization; the other order was cancelled after its sale.
        await payment.Kafka.ProduceEventAsync(new InventoryReleasedV1(late.OrderId, [new SkuQuantity("P-1", 2)], FailureReasons.SagaTimeout));
        await payment.Kafka.ProduceEventAsync(new InventoryReturnedV1(refunded.OrderId, [new SkuQuantity("P-1", 2)], FailureReasons.Cancelled));
        var voided = (await payment.WaitForEventsAsync(Topics.PaymentVoided, late.OrderId)).Single().Payload.Deserialize<PaymentVoidedV1>(EventJson.Options)!;
        Assert.Equal((authorized.PaymentId, 10.50m, "EUR", FailureReasons.SagaTimeout), (voided.PaymentId, voided.Amount, voided.Currency, voided.Reason));
        var refund = (await payment.WaitForEventsAsync(Topics.PaymentRefunded, refunded.OrderId)).Single().Payload.Deserialize<PaymentRefundedV1>(EventJson.Options)!;
        Assert.Equal((10.50m, FailureReasons.Cancelled), (refund.Amount, refund.Reason));

        // Delivered again (new event ids): nothing is voided or refunded twice.
        await payment.Kafka.ProduceEventAsync(new InventoryReleasedV1(late.OrderId, [new SkuQuantity("P-1", 2)], FailureReasons.SagaTimeout));
        await payment.Kafka.ProduceEventAsync(new InventoryReturnedV1(refunded.OrderId, [new SkuQuantity("P-1", 2)], FailureReasons.Cancelled));
        await payment.WaitCaughtUpAsync("payment", Topics.InventoryReleased, Topics.InventoryReturned);
        Assert.Single(payment.EventsOf(Topics.PaymentVoided, late.OrderId));
        Assert.Single(payment.EventsOf(Topics.PaymentRefunded, refunded.OrderId));
        Assert.Equal("VOIDED SAGA_TIMEOUT", await payment.QueryOneAsync<string>("SELECT status || ' ' || reason FROM payments WHERE order_id = @OrderId", new { late.OrderId }));
        Assert.Equal("REFUNDED CANCELLED", await payment.QueryOneAsync<string>("SELECT status || ' ' || reason FROM payments WHERE order_id = @OrderId", new { refunded.OrderId }));
    }

    [Fact]
    public async Task An_order_released_before_its_reservation_event_arrives_is_never_authorized()
    {
        var order = Reserved("frank");
        await payment.Kafka.ProduceEventAsync(new InventoryReleasedV1(order.OrderId, [new SkuQuantity("P-1", 2)], FailureReasons.SagaTimeout));
        await payment.WaitCaughtUpAsync("payment", Topics.InventoryReleased);
        await payment.Kafka.ProduceEventAsync(order);
        await payment.WaitCaughtUpAsync("payment", Topics.InventoryReserved);

        Assert.Empty(payment.EventsOf(Topics.PaymentAuthorized, order.OrderId));
        Assert.Empty(payment.EventsOf(Topics.PaymentFailed, order.OrderId));
        Assert.Equal(0, await payment.QueryOneAsync<long>("SELECT count(*) FROM payments WHERE order_id = @OrderId", new { order.OrderId }));
        Assert.Equal(FailureReasons.SagaTimeout, await payment.QueryOneAsync<string>("SELECT reason FROM closed_orders WHERE order_id = @OrderId", new { order.OrderId }));
    }

    [Fact]
    public async Task An_order_is_decided_once_even_if_reserved_twice()
    {
        var order = Reserved("carol");
        await payment.Kafka.ProduceEventAsync(order);
        await payment.Kafka.ProduceEventAsync(order); // a second event (new event id) for the same order
        await payment.WaitForEventsAsync(Topics.PaymentAuthorized, order.OrderId);
        await payment.WaitCaughtUpAsync("payment", Topics.InventoryReserved);

        Assert.Single(payment.EventsOf(Topics.PaymentAuthorized, order.OrderId));
        Assert.Equal(1, await payment.QueryOneAsync<long>("SELECT count(*) FROM payments WHERE order_id = @OrderId", new { order.OrderId }));
    }

    [Fact]
    public async Task A_backlog_is_applied_once_per_event_and_a_failing_message_is_dead_lettered_alone()
    {
        // Stopped, so the whole backlog is waiting when the consumer starts and arrives in big batches.
        await payment.Service.StopAsync();
        var orders = Enumerable.Range(0, 300).Select(_ => Reserved("backlog")).ToList();
        var ids = new Dictionary<Guid, Guid>();
        foreach (var order in orders)
        {
            ids[order.OrderId] = Guid.CreateVersion7();
            await payment.Kafka.ProduceEventAsync(order, ids[order.OrderId]);
        }
        // Redeliveries of the same events (same event id) in the same backlog.
        foreach (var order in orders.Take(40)) await payment.Kafka.ProduceEventAsync(order, ids[order.OrderId]);
        // A handler failure that decoding cannot see: the database refuses a four-letter currency.
        var unpayable = Reserved("backlog") with { Currency = "EURO" };
        await payment.Kafka.ProduceEventAsync(unpayable);
        foreach (var order in orders.Skip(40).Take(40)) await payment.Kafka.ProduceEventAsync(order, ids[order.OrderId]);
        await payment.Service.StartAsync();
        await payment.WaitCaughtUpAsync("payment", Topics.InventoryReserved);

        var orderIds = orders.Select(o => o.OrderId).ToArray();
        Assert.Equal(300, await payment.QueryOneAsync<long>("SELECT count(*) FROM payments WHERE order_id = ANY(@Ids)", new { Ids = orderIds }));
        var authorized = payment.Kafka.ReadAll(Topics.PaymentAuthorized)
            .Select(m => System.Text.Encoding.UTF8.GetString(m.Message.Key!))
            .Where(key => orderIds.Contains(Guid.Parse(key)))
            .ToList();
        Assert.Equal(300, authorized.Count);
        Assert.Equal(300, authorized.Distinct().Count());

        var letter = Assert.Single(payment.Kafka.ReadAll(Topics.DeadLetter(Topics.InventoryReserved)),
            m => System.Text.Encoding.UTF8.GetString(m.Message.Key!) == unpayable.OrderId.ToString());
        Assert.True(letter.Message.Headers.TryGetLastBytes(OrderStream.Messaging.DeadLetterHeaders.ErrorType, out var errorType));
        Assert.Contains("PostgresException", System.Text.Encoding.UTF8.GetString(errorType));
        Assert.Equal(0, await payment.QueryOneAsync<long>("SELECT count(*) FROM payments WHERE order_id = @OrderId", new { unpayable.OrderId }));
        // The failing message sank a batch, and that batch was applied again message by message.
        Assert.True(payment.Service.CountOutput("applying them one by one") > 0, payment.Service.RecentOutput());
    }
    [Fact]
    public async Task A_backlog_decided_in_batches_gives_each_order_one_decision_and_one_compensation()
    {
        var refundLater = Enumerable.Range(0, 5).Select(_ => Reserved("batch")).ToList();
        foreach (var order in refundLater) await payment.Kafka.ProduceEventAsync(order);
        foreach (var order in refundLater) await payment.WaitForEventsAsync(Topics.PaymentAuthorized, order.OrderId);

        var fresh = Enumerable.Range(0, 40).Select(i => Reserved(i % 8 == 0 ? "decline-batch" : "batch")).ToList();
        var racing = Enumerable.Range(0, 10).Select(_ => Reserved("batch")).ToList();
        var neverReserved = Enumerable.Range(0, 10).Select(_ => Reserved("batch")).ToList();
        var all = refundLater.Concat(fresh).Concat(racing).Concat(neverReserved).Select(o => o.OrderId).ToHashSet();
        static InventoryReleasedV1 Release(InventoryReservedV2 order) => new(order.OrderId, [new SkuQuantity("P-1", 2)], FailureReasons.SagaTimeout);

        // Stopped, so the backlog is waiting when the consumer starts and many events share a transaction.
        await payment.Service.StopAsync();
        var copies = new List<Func<Task>>();
        async Task Produce<TEvent>(TEvent evt) where TEvent : IEvent
        {
            var eventId = Guid.CreateVersion7();
            await payment.Kafka.ProduceEventAsync(evt, eventId);
            if (copies.Count < 25) copies.Add(() => payment.Kafka.ProduceEventAsync(evt, eventId));
        }
        foreach (var order in fresh) await Produce(order);
        foreach (var order in fresh.Take(5)) await payment.Kafka.ProduceEventAsync(order); // a second reservation event (new id)
        foreach (var order in racing)
        {
            // Two topics: the release may be applied before or after the reservation, in one batch.
            await Produce(order);
            await Produce(Release(order));
        }
        foreach (var order in neverReserved) await Produce(Release(order));
        foreach (var order in refundLater) await Produce(new InventoryReturnedV1(order.OrderId, [new SkuQuantity("P-1", 2)], FailureReasons.Cancelled));
        foreach (var copy in copies) await copy(); // redeliveries change nothing
        await payment.Service.StartAsync();
        await payment.WaitCaughtUpAsync("payment", Topics.InventoryReserved, Topics.InventoryReleased, Topics.InventoryReturned);

        ILookup<Guid, T> Read<T>(string topic) =>
            payment.EventsByOrder(topic, all).SelectMany(g => g.Select(e => (g.Key, Event: e.Payload.Deserialize<T>(EventJson.Options)!))).ToLookup(e => e.Key, e => e.Event);
        var (authorized, failed, voided, refunded) = (Read<PaymentAuthorizedV1>(Topics.PaymentAuthorized), Read<PaymentFailedV1>(Topics.PaymentFailed),
            Read<PaymentVoidedV1>(Topics.PaymentVoided), Read<PaymentRefundedV1>(Topics.PaymentRefunded));
        var rows = (await payment.QueryAsync<(Guid OrderId, Guid PaymentId, string Status)>(
            "SELECT order_id, payment_id, status FROM payments WHERE order_id = ANY(@Ids)", new { Ids = all.ToArray() })).ToDictionary(r => r.OrderId);
        var closed = (await payment.QueryAsync<Guid>("SELECT order_id FROM closed_orders WHERE order_id = ANY(@Ids)", new { Ids = all.ToArray() })).ToHashSet();

        foreach (var order in fresh)
        {
            var declined = order.UserId.StartsWith("decline-");
            Assert.Equal((declined ? 0 : 1, declined ? 1 : 0), (authorized[order.OrderId].Count(), failed[order.OrderId].Count()));
            Assert.Equal(declined ? "DECLINED" : "AUTHORIZED", rows[order.OrderId].Status);
        }
        foreach (var order in racing)
        {
            // Reservation first: authorized, then voided with the same payment. Release first: closed, never decided.
            if (closed.Contains(order.OrderId))
                Assert.Equal((0, 0, false), (authorized[order.OrderId].Count(), voided[order.OrderId].Count(), rows.ContainsKey(order.OrderId)));
            else
                Assert.Equal((rows[order.OrderId].PaymentId, "VOIDED"), (voided[order.OrderId].Single().PaymentId, rows[order.OrderId].Status));
        }
        foreach (var order in neverReserved)
            Assert.Contains(order.OrderId, closed);
        foreach (var order in refundLater)
            Assert.Equal((rows[order.OrderId].PaymentId, "REFUNDED"), (refunded[order.OrderId].Single().PaymentId, rows[order.OrderId].Status));

        // Several events were decided in one transaction each, never replayed one by one.
        Assert.True(payment.Service.CountOutput("applied in one transaction") >= 1, $"log: {payment.Service.LogFile}");
        Assert.Equal(0, payment.Service.CountOutput("applying them one by one"));
    }

    [Fact]
    public async Task Replayed_v1_reservations_from_before_the_rollout_are_still_authorized_for_their_amount()
    {
        var old = ReservedV1("grace");
        var oldDeclined = ReservedV1("decline-heidi");
        await payment.Kafka.ProduceEventAsync(old);
        await payment.Kafka.ProduceEventAsync(oldDeclined);

        var authorized = (await payment.WaitForEventsAsync(Topics.PaymentAuthorized, old.OrderId)).Single().Payload.Deserialize<PaymentAuthorizedV1>(EventJson.Options)!;
        Assert.Equal((6.20m, "EUR"), (authorized.Amount, authorized.Currency));
        await payment.WaitForEventsAsync(Topics.PaymentFailed, oldDeclined.OrderId);

        // Replayed from the start of the v1 topic (new event ids): decided already, nothing changes.
        await payment.Kafka.ProduceEventAsync(old);
        await payment.Kafka.ProduceEventAsync(oldDeclined);
        await payment.WaitCaughtUpAsync("payment", Topics.InventoryReservedV1);
        Assert.Single(payment.EventsOf(Topics.PaymentAuthorized, old.OrderId));
        Assert.Equal("AUTHORIZED 6.20", await payment.QueryOneAsync<string>("SELECT status || ' ' || amount FROM payments WHERE order_id = @OrderId", new { old.OrderId }));
        Assert.Equal("DECLINED", await payment.QueryOneAsync<string>("SELECT status FROM payments WHERE order_id = @OrderId", new { oldDeclined.OrderId }));
    }

    [Fact]
    public async Task An_order_reserved_in_both_versions_is_decided_once_at_the_amount_of_the_first()
    {
        var priced = Reserved("ivan");
        var sameOrderV1 = new InventoryReservedV1(priced.OrderId, priced.UserId, [new OrderLine("P-1", 2, 0.01m)], 0.02m, "EUR");
        await payment.Kafka.ProduceEventAsync(priced);
        await payment.WaitForEventsAsync(Topics.PaymentAuthorized, priced.OrderId);
        await payment.Kafka.ProduceEventAsync(sameOrderV1);
        await payment.WaitCaughtUpAsync("payment", Topics.InventoryReservedV1, Topics.InventoryReserved);

        Assert.Equal(10.50m, Assert.Single(payment.EventsOf(Topics.PaymentAuthorized, priced.OrderId)).Payload.Deserialize<PaymentAuthorizedV1>(EventJson.Options)!.Amount);
        Assert.Equal(10.50m, await payment.QueryOneAsync<decimal>("SELECT amount FROM payments WHERE order_id = @OrderId", new { priced.OrderId }));
    }
}
