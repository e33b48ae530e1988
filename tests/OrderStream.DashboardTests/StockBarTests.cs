using OrderStream.Dashboard.Components.Shared;

namespace OrderStream.DashboardTests;

public sealed class StockBarTests : DashboardTestContext
{
    [Fact]
    public void The_bar_splits_into_available_reserved_and_sold_by_their_share()
    {
        var cut = Ctx.Render<StockBar>(p => p.Add(c => c.Available, 50).Add(c => c.Reserved, 30).Add(c => c.Sold, 20));

        Assert.Equal("width:50%", cut.Find("[data-testid=bar-available]").GetAttribute("style"));
        Assert.Equal("width:30%", cut.Find("[data-testid=bar-reserved]").GetAttribute("style"));
        Assert.Equal("width:20%", cut.Find("[data-testid=bar-sold]").GetAttribute("style"));
    }

    [Fact]
    public void The_bar_moves_when_the_numbers_change()
    {
        var cut = Ctx.Render<StockBar>(p => p.Add(c => c.Available, 3).Add(c => c.Reserved, 0).Add(c => c.Sold, 0));
        Assert.Equal("width:100%", cut.Find("[data-testid=bar-available]").GetAttribute("style"));

        cut.Render(p => p.Add(c => c.Available, 1).Add(c => c.Reserved, 1).Add(c => c.Sold, 1));

        Assert.Equal("width:33.333%", cut.Find("[data-testid=bar-available]").GetAttribute("style"));
        Assert.Equal("width:33.333%", cut.Find("[data-testid=bar-sold]").GetAttribute("style"));
    }

    [Fact]
    public void No_stock_draws_an_empty_bar_instead_of_dividing_by_zero()
    {
        var cut = Ctx.Render<StockBar>(p => p.Add(c => c.Available, 0).Add(c => c.Reserved, 0).Add(c => c.Sold, 0));

        Assert.Empty(cut.FindAll(".os-seg"));
        Assert.Contains("no stock", cut.Markup);
        Assert.Equal((0d, 0d, 0d), StockBar.Shares(0, 0, 0));
    }
}
