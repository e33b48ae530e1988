using OrderStream.Contracts;
using OrderStream.Inventory.Domain;

namespace OrderStream.UnitTests;

public class StockBookTests
{
    private static readonly (string?, string?) Trace = ("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", null);

    private static OrderLine Line(string sku, int qty) => new(sku, qty, 1m);

    [Fact]
    public void Orders_of_one_batch_reserve_against_what_the_earlier_ones_left()
    {
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var book = new StockBook(new Dictionary<Guid, string> { [a] = HoldStatus.New, [b] = HoldStatus.New, [c] = HoldStatus.New }, [],
            [new StockLevel("H", 3, 0, 0), new StockLevel("Z", 9, 0, 0)], [new ProductPrice("H", 1m, "EUR"), new ProductPrice("Z", 1m, "EUR")]);

        Assert.True(book.Reserve(a, [Line("H", 2)], "EUR", Trace).Ok);
        var second = book.Reserve(b, [Line("Z", 1), Line("H", 2)], "EUR", Trace);
        Assert.Equal((FailureReasons.OutOfStock, "H"), (second.FailureReason, second.FailedSku));
        Assert.True(book.Reserve(c, [Line("H", 1)], "EUR", Trace).Ok);

        var changes = book.Changes();
        Assert.Equal([new StockLevel("H", 0, 3, 0)], changes.Stock); // Z untouched: the failed order took nothing
        Assert.Equal(new Dictionary<Guid, string> { [a] = HoldStatus.Reserved, [b] = HoldStatus.Failed, [c] = HoldStatus.Reserved },
            changes.Holds.ToDictionary(h => h.OrderId, h => h.Status));
        Assert.Equal(FailureReasons.OutOfStock, changes.Holds.Single(h => h.OrderId == b).Reason);
        Assert.Null(changes.Holds.Single(h => h.OrderId == b).ReservedTrace);
        Assert.Equal(Trace, changes.Holds.Single(h => h.OrderId == a).ReservedTrace);
        Assert.Equal(2, changes.Lines.Count);
    }

    [Fact]
    public void A_sale_a_release_and_a_return_move_units_between_columns_and_keep_the_total()
    {
        var (sold, released, returned) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var book = new StockBook(
            new Dictionary<Guid, string> { [sold] = HoldStatus.Reserved, [released] = HoldStatus.Reserved, [returned] = HoldStatus.Sold },
            [
                new StockBook.Line(sold, "A", 2, ReservationStatus.Reserved), new StockBook.Line(sold, "B", 1, ReservationStatus.Reserved),
                new StockBook.Line(released, "A", 3, ReservationStatus.Reserved),
                new StockBook.Line(returned, "A", 4, ReservationStatus.Sold),
            ],
            [new StockLevel("A", 10, 5, 4), new StockLevel("B", 0, 1, 0)], []);

        Assert.Equal([new SkuQuantity("A", 2), new SkuQuantity("B", 1)], book.Sell(sold));
        Assert.Equal([new SkuQuantity("A", 3)], book.Release(released, FailureReasons.PaymentDeclined));
        Assert.Equal([new SkuQuantity("A", 4)], book.Return(returned, FailureReasons.Cancelled));

        var changes = book.Changes();
        Assert.Equal([new StockLevel("A", 17, 0, 2), new StockLevel("B", 0, 0, 1)], changes.Stock.OrderBy(s => s.Sku));
        Assert.Equal(new Dictionary<(Guid, string), string>
            {
                [(sold, "A")] = ReservationStatus.Sold, [(sold, "B")] = ReservationStatus.Sold,
                [(released, "A")] = ReservationStatus.Released, [(returned, "A")] = ReservationStatus.Returned,
            }, changes.Lines.ToDictionary(l => (l.OrderId, l.Sku), l => l.Status));
        Assert.Equal((HoldStatus.Returned, FailureReasons.Cancelled), changes.Holds.Single(h => h.OrderId == returned) is var r ? (r.Status, r.Reason) : default);
    }

    [Fact]
    public void A_cancel_before_the_order_closes_it_with_nothing_and_an_order_nothing_was_decided_for_is_not_written()
    {
        var (cancelled, unseen, known) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var book = new StockBook(new Dictionary<Guid, string> { [cancelled] = HoldStatus.New, [unseen] = HoldStatus.New, [known] = HoldStatus.Reserved },
            [new StockBook.Line(known, "A", 1, ReservationStatus.Reserved)], [new StockLevel("A", 0, 1, 0)], []);

        Assert.Empty(book.Release(cancelled, FailureReasons.Cancelled));
        book.Sell(known);

        // The cancelled order is new to inventory (its row is inserted), the sold one is not (updated); the unseen one is left out.
        var changes = book.Changes();
        Assert.Equal([(cancelled, true, HoldStatus.Released), (known, false, HoldStatus.Sold)],
            changes.Holds.Select(h => (h.OrderId, h.IsNew, h.Status)).OrderBy(h => h.IsNew ? 0 : 1));
        Assert.DoesNotContain(changes.Holds, h => h.OrderId == unseen);
    }

    [Fact]
    public void A_step_the_saga_rules_do_not_allow_is_refused_rather_than_miscounted()
    {
        var order = Guid.NewGuid();
        var book = new StockBook(new Dictionary<Guid, string> { [order] = HoldStatus.Released }, [], [new StockLevel("A", 1, 0, 0)], []);
        Assert.Throws<InvalidOperationException>(() => book.Sell(order));
        Assert.Throws<InvalidOperationException>(() => book.Reserve(order, [Line("A", 1)], "EUR", Trace));
        Assert.Throws<InvalidOperationException>(() => book.Status(Guid.NewGuid()));
        Assert.Empty(book.Changes().Stock);
    }
}
