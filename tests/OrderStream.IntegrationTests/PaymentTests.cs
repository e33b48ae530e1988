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
}
