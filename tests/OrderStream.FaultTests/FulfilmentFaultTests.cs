using System.Net;
using Dapper;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.FaultTests;

public sealed class FulfilmentKillStack : FaultStack;

/// <summary>
/// Fulfilment like the other services: kill -9 while sellers ship orders under load. Every ship request is
/// dispatched once after it comes back (its sales and requests redelivered are no-ops), and the books balance.
/// </summary>
[Collection(Faults.Name)]
public sealed class FulfilmentFaultTests(FulfilmentKillStack stack, ITestOutputHelper output) : IClassFixture<FulfilmentKillStack>
{
    [Fact]
    public async Task Kill_9_of_fulfilment_while_orders_are_shipped_loses_and_doubles_no_shipment()
    {
        var skus = Orders.Skus("FK", 6);
        await stack.SeedAsync(skus, 400);
        var fulfilment = stack[Catalogue.Fulfilment.Name];
        var random = new Random(11);
        await using var load = new OrderLoad([stack.Gateway.BaseAddress], count: 2_000, perSecond: 8, skus, "fulfil");
        var shipped = new HashSet<Guid>();

        // Sellers ship what is confirmed while fulfilment is killed and restarted three times.
        for (var round = 0; round < 3; round++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(random.Next(1_500, 3_500))); // a random moment, not a synchronisation
            await ShipConfirmedAsync(load.Accepted, shipped);
            await fulfilment.KillAsync();
            // Requests keep coming while it is down: they wait on the topic.
            await ShipConfirmedAsync(load.Accepted, shipped);
            await stack.RestartAsync(fulfilment);
        }
        load.StopPlacing();
        await load.Completion;
        await stack.WaitSettledAsync(load.Accepted, TimeSpan.FromMinutes(3));
        await ShipConfirmedAsync(load.Accepted, shipped);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Eventually.True(async () => await CountAsync(OrderStatus.Shipped, shipped) == shipped.Count, TimeSpan.FromMinutes(2),
            $"{shipped.Count} ship requests to show SHIPPED");
        output.WriteLine($"{load.Accepted.Count} orders, {shipped.Count} shipped across 3 kills of fulfilment; all SHIPPED {clock.Elapsed.TotalSeconds:0.0} s after the last request; " +
            $"fulfilment skipped {stack.DuplicatesSkipped(fulfilment)} redelivered events");
        Assert.NotEmpty(shipped);
        var report = await stack.CheckBooksAsync(output);
        Assert.Equal(shipped.Count, report.Totals.Shipped);
        await using var conn = stack.Db("fulfilment");
        Assert.Equal(shipped.Count, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox WHERE topic = @Topic", new { Topic = Topics.ShipmentDispatched }));
    }

    /// <summary>Ships, as a seller, every accepted order the view shows CONFIRMED that was not shipped yet: each answers 202.</summary>
    private async Task ShipConfirmedAsync(IReadOnlyCollection<Guid> accepted, HashSet<Guid> shipped)
    {
        await using var conn = stack.Db("materializer");
        var confirmed = await conn.QueryAsync<Guid>("SELECT order_id FROM order_view WHERE order_id = ANY(@Ids) AND status = @Status",
            new { Ids = accepted.Except(shipped).ToArray(), Status = OrderStatus.Confirmed });
        foreach (var id in confirmed)
        {
            using var response = await stack.Seller.PostAsync($"/orders/{id}/ship", null);
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"ship {id}: {response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            shipped.Add(id);
        }
    }

    private async Task<long> CountAsync(string status, IReadOnlyCollection<Guid> ids)
    {
        await using var conn = stack.Db("materializer");
        return await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM order_view WHERE order_id = ANY(@Ids) AND status = @Status",
            new { Ids = ids.ToArray(), Status = status });
    }
}
