using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.IntegrationTests;

public sealed class PaymentFixture : ServiceFixture
{
    protected override string Name => "payment";
}

public sealed class PaymentTests(PaymentFixture payment) : IClassFixture<PaymentFixture>
{
    private static InventoryReservedV1 Reserved(string userId) =>
        new(Guid.CreateVersion7(), userId, [new OrderLine("P-1", 2, 5.25m)], 10.50m, "EUR");

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
}
