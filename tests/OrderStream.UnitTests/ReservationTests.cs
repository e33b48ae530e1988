using OrderStream.Contracts;
using OrderStream.Inventory.Domain;

namespace OrderStream.UnitTests;

public class ReservationTests
{
    private static Dictionary<string, StockLevel> Stock(params (string Sku, long Available)[] levels) =>
        levels.ToDictionary(l => l.Sku, l => new StockLevel(l.Sku, l.Available, 0, 0));

    [Fact]
    public void Reserves_every_line_when_all_are_in_stock()
    {
        var decision = Reservation.Decide(Stock(("A", 5), ("B", 1)), [new OrderLine("B", 1, 1m), new OrderLine("A", 5, 1m)]);
        Assert.True(decision.Ok);
        Assert.Equal([new SkuQuantity("A", 5), new SkuQuantity("B", 1)], decision.Lines);
    }

    [Fact]
    public void Rejects_whole_order_when_any_line_is_short()
    {
        var decision = Reservation.Decide(Stock(("A", 5), ("B", 1)), [new OrderLine("A", 1, 1m), new OrderLine("B", 2, 1m)]);
        Assert.False(decision.Ok);
        Assert.Equal((FailureReasons.OutOfStock, "B"), (decision.FailureReason, decision.FailedSku));
    }

    [Fact]
    public void Rejects_an_unknown_sku()
    {
        var decision = Reservation.Decide(Stock(("A", 5)), [new OrderLine("A", 1, 1m), new OrderLine("Z", 1, 1m)]);
        Assert.Equal((FailureReasons.UnknownSku, "Z"), (decision.FailureReason, decision.FailedSku));
    }

    [Fact]
    public void Merges_lines_of_one_sku_before_checking_stock()
    {
        // Two lines of 3 each fit 5 separately but not together.
        var decision = Reservation.Decide(Stock(("A", 5)), [new OrderLine("A", 3, 1m), new OrderLine("A", 3, 2m)]);
        Assert.Equal((FailureReasons.OutOfStock, "A"), (decision.FailureReason, decision.FailedSku));
        Assert.Equal([new SkuQuantity("A", 6)], decision.Lines);
    }

    [Fact]
    public void Orders_lines_by_sku_so_rows_are_locked_in_one_global_order()
    {
        var lines = Reservation.Merge([new OrderLine("b", 1, 1m), new OrderLine("B", 1, 1m), new OrderLine("a", 1, 1m)]);
        Assert.Equal(["B", "a", "b"], lines.Select(l => l.Sku));
    }
}
