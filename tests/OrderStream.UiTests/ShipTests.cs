using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace OrderStream.UiTests;

/// <summary>A seller ships a customer's confirmed order from its page, and watches it become SHIPPED live.</summary>
[Collection(DashboardCollection.Name)]
public sealed class ShipTests(DashboardStack stack)
{
    [Fact]
    public async Task A_seller_ships_a_confirmed_order_from_its_page_and_it_shows_SHIPPED_with_the_dispatch_without_a_reload()
    {
        var sku = Ui.Unique("UI-SHIP");
        await stack.SeedAsync(sku, 10);
        var orderId = await stack.PlaceAsync(Ui.Unique("ui-carl"), sku, qty: 2);
        var (context, page) = await stack.SignedInAsync($"/orders/{orderId}", user: Ui.Unique("ui-sam"), roles: ["seller"]);
        await using var _ = context;

        await Expect(page.Id("order-status")).ToHaveTextAsync("CONFIRMED", new() { Timeout = 60_000 });
        var mark = await page.MarkDocumentAsync();
        // Not the seller's to cancel.
        await Expect(page.Id("order-cancel")).ToHaveCountAsync(0);
        await page.Id("order-ship").ClickAsync();
        await page.Id("order-ship-confirm").ClickAsync();
        await Expect(page.Id("order-ship-result")).ToContainTextAsync("Ship requested");

        await Expect(page.Id("order-status")).ToHaveTextAsync("SHIPPED", new() { Timeout = 60_000 });
        await Expect(page.Timeline("order.ship-requested.v1")).ToHaveAttributeAsync("data-service", "gateway", Ui.Settles);
        await Expect(page.Timeline("shipment.dispatched.v1")).ToHaveAttributeAsync("data-service", "fulfilment", Ui.Settles);
        await Expect(page.Id("order-ship")).ToHaveCountAsync(0);
        await page.AssertSameDocumentAsync(mark);

        // The list filters on SHIPPED too.
        await page.NavAsync("orders", "/orders");
        await page.Id("orders-filter-status").SelectOptionAsync("SHIPPED");
        await Expect(page.OrderRow(orderId)).ToHaveAttributeAsync("data-status", "SHIPPED", Ui.Settles);
    }
}
