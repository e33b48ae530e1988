using System.Net;
using System.Net.Http.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

public sealed class RedisOutageTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    [Fact]
    public async Task Without_redis_orders_are_accepted_and_read_from_the_store_without_errors()
    {
        await stack.SeedAsync("R-1", 10);
        var before = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("ray", ("R-1", 1, 1.00m))));

        stack.Redis.Kill();

        // A settled order is still served (from the materializer's store), a new one is accepted and settles.
        var again = await stack.Http.GetAsync($"/orders/{before.OrderId}");
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(OrderStatus.Confirmed, (await again.Content.ReadFromJsonAsync<OrderView>(EventJson.Options))!.Status);
        var during = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("ray", ("R-1", 2, 1.00m))));
        Assert.Equal(OrderStatus.Confirmed, during.Status);

        // Still in rotation: /readyz answers 200 and names the cache as degraded.
        foreach (var service in new[] { stack.Gateway, stack.Materializer })
        {
            using var http = new HttpClient { BaseAddress = service.BaseAddress };
            var ready = await http.GetAsync("/readyz");
            Assert.Equal((HttpStatusCode.OK, "Degraded"), (ready.StatusCode, await ready.Content.ReadAsStringAsync()));
        }
        Assert.Equal(new Orders.Stock("R-1", 7, 0, 3, 10), await Eventually.Get(async () =>
        {
            var s = await stack.Http.GetFromJsonAsync<Orders.Stock>("/inventory/R-1");
            return s!.Reserved == 0 ? s : null;
        }, TimeSpan.FromSeconds(10), "the sales to be recorded"));
    }
}
