using OrderStream.Contracts;
using OrderStream.Inventory.Domain;

namespace OrderStream.UnitTests;

public class ReservationTests
{
    private static Dictionary<string, StockLevel> Stock(params (string Sku, long Available)[] levels) =>
        levels.ToDictionary(l => l.Sku, l => new StockLevel(l.Sku, l.Available, 0, 0));

    // Every SKU of these tests is in the catalogue at 4.00 EUR unless a test says otherwise.
    private static readonly Dictionary<string, ProductPrice> Prices =
        new[] { "A", "B", "Z" }.ToDictionary(sku => sku, sku => new ProductPrice(sku, 4.00m, "EUR"));

    private static ReservationDecision Decide(Dictionary<string, StockLevel> stock, IEnumerable<OrderLine> items) =>
        Reservation.Decide(stock, Prices, items, "EUR");

    [Fact]
    public void Reserves_every_line_when_all_are_in_stock()
    {
        var decision = Decide(Stock(("A", 5), ("B", 1)), [new OrderLine("B", 1, 1m), new OrderLine("A", 5, 1m)]);
        Assert.True(decision.Ok);
        Assert.Equal([new SkuQuantity("A", 5), new SkuQuantity("B", 1)], decision.Lines);
    }

    [Fact]
    public void Rejects_whole_order_when_any_line_is_short()
    {
        var decision = Decide(Stock(("A", 5), ("B", 1)), [new OrderLine("A", 1, 1m), new OrderLine("B", 2, 1m)]);
        Assert.False(decision.Ok);
        Assert.Equal((FailureReasons.OutOfStock, "B"), (decision.FailureReason, decision.FailedSku));
    }

    [Fact]
    public void Rejects_an_unknown_sku()
    {
        var decision = Decide(Stock(("A", 5)), [new OrderLine("A", 1, 1m), new OrderLine("Z", 1, 1m)]);
        Assert.Equal((FailureReasons.UnknownSku, "Z"), (decision.FailureReason, decision.FailedSku));
    }

    [Fact]
    public void Merges_lines_of_one_sku_before_checking_stock()
    {
        // Two lines of 3 each fit 5 separately but not together.
        var decision = Decide(Stock(("A", 5)), [new OrderLine("A", 3, 1m), new OrderLine("A", 3, 2m)]);
        Assert.Equal((FailureReasons.OutOfStock, "A"), (decision.FailureReason, decision.FailedSku));
        Assert.Equal([new SkuQuantity("A", 6)], decision.Lines);
    }

    [Fact]
    public void Orders_lines_by_sku_so_rows_are_locked_in_one_global_order()
    {
        var lines = Reservation.Merge([new OrderLine("b", 1, 1m), new OrderLine("B", 1, 1m), new OrderLine("a", 1, 1m)]);
        Assert.Equal(["B", "a", "b"], lines.Select(l => l.Sku));
    }

    [Fact]
    public void Prices_every_line_from_the_catalogue_not_from_the_order()
    {
        var prices = new Dictionary<string, ProductPrice> { ["A"] = new("A", 999.00m, "EUR"), ["B"] = new("B", 0.50m, "EUR") };
        var decision = Reservation.Decide(Stock(("A", 5), ("B", 5)), prices, [new OrderLine("A", 1, 0.01m), new OrderLine("B", 2, 0.01m), new OrderLine("B", 1, 7m)], "EUR");
        Assert.True(decision.Ok);
        Assert.Equal([new PricedLine("A", 1, 999.00m), new PricedLine("B", 3, 0.50m)], decision.Priced);
        Assert.Equal(1000.50m, decision.Amount);
    }

    [Fact]
    public void A_sku_in_stock_but_not_in_the_catalogue_or_priced_in_another_currency_is_unknown()
    {
        var stock = Stock(("A", 5), ("C", 5));
        var notListed = Reservation.Decide(stock, Prices, [new OrderLine("A", 1, 1m), new OrderLine("C", 1, 1m)], "EUR");
        Assert.Equal((FailureReasons.UnknownSku, "C"), (notListed.FailureReason, notListed.FailedSku));
        Assert.Empty(notListed.Priced);
        var otherCurrency = Reservation.Decide(stock, Prices, [new OrderLine("A", 1, 1m)], "USD");
        Assert.Equal((FailureReasons.UnknownSku, "A"), (otherCurrency.FailureReason, otherCurrency.FailedSku));
    }
}
