using OrderStream.Contracts;
using OrderStream.Fulfilment.Domain;

namespace OrderStream.UnitTests;

/// <summary>Fulfilment's rule on its own: a dispatch once both the sale and the ship request are in, in any order, once.</summary>
public class ShipmentBookTests
{
    private static readonly Guid Order = Guid.CreateVersion7();
    private static readonly SkuQuantity[] Items = [new("S-1", 2)];
    private static readonly DateTimeOffset Now = DateTimeOffset.UtcNow;

    private static readonly Dictionary<string, Func<ShipmentBook, ShipmentOutcome>> Facts = new()
    {
        ["sold"] = b => b.Sold(Order, Items, Now),
        ["requested"] = b => b.Requested(Order, "sam", Now, Now),
        ["returned"] = b => b.Returned(Order),
    };

    public static TheoryData<string[], string, int> Arrivals => new()
    {
        { ["sold", "requested"], ShipmentStatus.Dispatched, 1 },
        { ["requested", "sold"], ShipmentStatus.Dispatched, 1 },
        { ["sold", "requested", "sold", "requested"], ShipmentStatus.Dispatched, 1 },
        { ["sold"], ShipmentStatus.Awaiting, 0 },
        { ["requested"], ShipmentStatus.Requested, 0 },
        { ["sold", "returned", "requested"], ShipmentStatus.Cancelled, 0 },
        { ["returned", "sold", "requested"], ShipmentStatus.Cancelled, 0 },
        // Goods that left stay dispatched: a return after it (which the gateway prevents) changes nothing here.
        { ["sold", "requested", "returned"], ShipmentStatus.Dispatched, 1 },
    };

    [Theory]
    [MemberData(nameof(Arrivals))]
    public void The_shipment_follows_the_facts_and_dispatches_at_most_once(string[] arrivals, string status, int dispatches)
    {
        var book = new ShipmentBook([]);
        var outcomes = arrivals.Select(a => Facts[a](book)).ToList();
        Assert.Equal(status, book.Find(Order)!.Status);
        Assert.Equal(dispatches, outcomes.Count(o => o == ShipmentOutcome.Dispatched));
        Assert.Single(book.Changed());
    }

    [Fact]
    public void A_shipment_loaded_as_dispatched_is_never_changed_or_dispatched_again()
    {
        var loaded = new ShipmentRecord(Order, ShipmentStatus.Dispatched, Items, "sam", Now, Guid.CreateVersion7(), Now);
        var book = new ShipmentBook([loaded]);
        Assert.Equal(ShipmentOutcome.Unchanged, book.Sold(Order, Items, Now));
        Assert.Equal(ShipmentOutcome.Unchanged, book.Requested(Order, "other", Now, Now));
        Assert.Equal(ShipmentOutcome.Unchanged, book.Returned(Order));
        Assert.Empty(book.Changed());
        Assert.Equal(loaded, book.Find(Order));
    }

    [Fact]
    public void A_dispatch_carries_the_sold_lines_the_seller_and_a_shipment_id()
    {
        var book = new ShipmentBook([new ShipmentRecord(Order, ShipmentStatus.Requested, RequestedBy: "sam", RequestedAt: Now)]);
        Assert.Equal(ShipmentOutcome.Dispatched, book.Sold(Order, Items, Now));
        var shipment = book.Find(Order)!;
        Assert.Equal(Items, shipment.Items!);
        Assert.Equal("sam", shipment.RequestedBy);
        Assert.Equal(Now, shipment.DispatchedAt);
        Assert.NotNull(shipment.ShipmentId);
    }
}
