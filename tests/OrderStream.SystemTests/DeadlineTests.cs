using System.Net.Http.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

/// <summary>The whole system with a saga deadline of seconds instead of minutes.</summary>
public sealed class ShortDeadlineStack : OrderStreamStack
{
    // Long enough for a healthy saga on a loaded 2-core machine to settle well inside it (and for the
    // test to see the stuck orders before it fires), short enough for a test.
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    protected override IReadOnlyDictionary<string, string> ExtraSettings(string service) => service == "inventory"
        ? new Dictionary<string, string> { ["Saga__Deadline"] = Deadline.ToString("c"), ["Saga__ScanInterval"] = "00:00:01" }
        : new Dictionary<string, string>();
}

public sealed class DeadlineTests(ShortDeadlineStack stack, ITestOutputHelper output) : IClassFixture<ShortDeadlineStack>
{
    private sealed record StuckOrder(Guid OrderId, string? UserId, DateTimeOffset? CreatedAt, double AgeSeconds, string[] Events);
    private sealed record StuckOrders(double OlderThanSeconds, int Count, StuckOrder[] Orders);

    [Fact]
    public async Task Orders_stuck_without_payment_are_listed_then_fail_at_the_deadline_and_late_payment_results_are_compensated()
    {
        const int Stuck = 6;
        await stack.SeedAsync("D-1", 100);
        var confirmed = await stack.PlaceAsync(Orders.Body("control", ("D-1", 1, 1.00m)));
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(confirmed)).Status);

        await stack.Payment.StopAsync();
        List<Guid> ids;
        try
        {
            ids = [.. await Task.WhenAll(Enumerable.Range(0, Stuck).Select(i => stack.PlaceAsync(Orders.Body($"stuck-{i}", ("D-1", 2, 1.00m)))))];
            await Eventually.True(async () => (await stack.StockAsync("D-1")).Reserved == 2 * Stuck, TimeSpan.FromSeconds(30), "every order reserved");

            // Before the deadline: every one is PENDING, listed as stuck after its reservation, and its stock is still held.
            var stuck = await Eventually.Get(async () =>
            {
                var list = await stack.Http.GetFromJsonAsync<StuckOrders>("/orders/stuck?olderThan=1", EventJson.Options);
                return ids.All(id => list!.Orders.Any(o => o.OrderId == id && o.Events.Contains(Topics.InventoryReserved))) ? list : null;
            }, TimeSpan.FromSeconds(15), "the stuck orders to be listed");
            Assert.Equal(1, stuck.OlderThanSeconds);
            Assert.DoesNotContain(stuck.Orders, o => o.OrderId == confirmed);
            Assert.All(stuck.Orders.Where(o => ids.Contains(o.OrderId)), o => Assert.True(o.AgeSeconds >= 1 && o.AgeSeconds < ShortDeadlineStack.Deadline.TotalSeconds,
                $"{o.OrderId} listed at {o.AgeSeconds:0.#} s"));
            Assert.Equal(2 * Stuck, (await stack.StockAsync("D-1")).Reserved);
            Assert.Equal(0, await stack.QueryOneAsync<long>("inventory", "SELECT count(*) FROM outbox WHERE topic = @Topic", new { Topic = Topics.InventoryReleased }));

            // At the deadline: FAILED SAGA_TIMEOUT, and the stock released exactly once.
            var views = await Task.WhenAll(ids.Select(id => stack.WaitSettledAsync(id, TimeSpan.FromSeconds(120))));
            Assert.All(views, v => Assert.Equal((OrderStatus.Failed, FailureReasons.SagaTimeout), (v.Status, v.Reason)));
            Assert.All(views, v => Assert.True(v.SettledAt - v.CreatedAt >= ShortDeadlineStack.Deadline, $"{v.OrderId} settled {v.SettledAt - v.CreatedAt} after it was placed"));
            Assert.Equal(new Orders.Stock("D-1", 99, 0, 1, 100), await stack.StockAsync("D-1"));
            Assert.Empty((await stack.Http.GetFromJsonAsync<StuckOrders>("/orders/stuck?olderThan=0", EventJson.Options))!.Orders);
        }
        finally
        {
            // Payment comes back to the reservations it missed and to their releases.
            await stack.Payment.StartAsync();
        }

        await stack.AssertBooksBalanceAsync(output);
        var payments = await stack.QueryAsync<(Guid OrderId, string Status)>("payment", "SELECT order_id, status FROM payments WHERE order_id = ANY(@ids)", new { ids = ids.ToArray() });
        var closed = await stack.QueryAsync<Guid>("payment", "SELECT order_id FROM closed_orders WHERE order_id = ANY(@ids)", new { ids = ids.ToArray() });
        output.WriteLine($"late payment results: {payments.Count(p => p.Status == "VOIDED")} authorized then voided, " +
                         $"{payments.Count(p => p.Status == "DECLINED")} declined, {closed.Count} closed before payment decided");
        // Applied to nothing: every late authorization was voided, no order was left paid, none moved.
        Assert.DoesNotContain(payments, p => p.Status == "AUTHORIZED");
        Assert.All(ids, id => Assert.True(payments.Any(p => p.OrderId == id) || closed.Contains(id), $"{id} has neither a payment nor a closure"));
        Assert.Equal(payments.Count(p => p.Status == "VOIDED"),
            await stack.QueryOneAsync<long>("payment", "SELECT count(*) FROM outbox WHERE topic = @Topic AND msg_key = ANY(@keys)",
                new { Topic = Topics.PaymentVoided, keys = ids.Select(i => i.ToString()).ToArray() }));
        Assert.Equal(Stuck, await stack.QueryOneAsync<long>("inventory", "SELECT count(*) FROM outbox WHERE topic = @Topic", new { Topic = Topics.InventoryReleased }));
        Assert.Equal(new Orders.Stock("D-1", 99, 0, 1, 100), await stack.StockAsync("D-1"));
        foreach (var id in ids)
        {
            var view = await stack.WaitSettledAsync(id);
            Assert.Equal((OrderStatus.Failed, FailureReasons.SagaTimeout), (view.Status, view.Reason));
        }
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(confirmed)).Status);
    }
}
