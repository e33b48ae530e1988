using System.Net.Http.Json;
using Microsoft.Playwright;
using OrderStream.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace OrderStream.UiTests;

/// <summary>Orders placed in the browser, followed on the order page and the inventory page as the saga moves them.</summary>
[Collection(DashboardCollection.Name)]
public sealed class OrderPagesTests(DashboardStack stack)
{
    [Fact]
    public async Task An_order_placed_in_the_UI_reaches_CONFIRMED_with_its_timeline_and_trace_link_without_a_reload()
    {
        var sku = Ui.Unique("UI-OK");
        var user = Ui.Unique("ui-alice");
        await stack.SeedAsync(sku, 10);
        var (context, page) = await stack.SignedInAsync("/orders", user: user);
        await using var _ = context;

        // Payment holds the order PENDING until the test lets it go, so the pages show it before it settles:
        // CONFIRMED can only appear on them live.
        await Admin.PauseAsync(stack, "payment");
        try
        {
            var mark = await page.MarkDocumentAsync();
            var orderId = await page.PlaceOrderAsync(user, sku, qty: 2);
            await page.Id("orders-filter-user").FillAsync(user);
            await Expect(page.OrderRow(orderId)).ToHaveAttributeAsync("data-status", "PENDING");
            await page.AssertSameDocumentAsync(mark);

            await page.Id("order-placed").ClickAsync();
            await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/orders/{orderId}$"));
            mark = await page.MarkDocumentAsync();
            await Expect(page.Id("order-status")).ToHaveTextAsync("PENDING");
            await Expect(page.Timeline("order.created.v1")).ToHaveAttributeAsync("data-service", "gateway");
            await Expect(page.Timeline("inventory.reserved.v2")).ToHaveAttributeAsync("data-service", "inventory", Ui.Settles);

            await Admin.ResumeAsync(stack, "payment");
            await Expect(page.Id("order-status")).ToHaveTextAsync("CONFIRMED", new() { Timeout = 60_000 });
            await Expect(page.Timeline("payment.authorized.v1")).ToHaveAttributeAsync("data-service", "payment", Ui.Settles);
            foreach (var type in new[] { "order.created.v1", "inventory.reserved.v2", "payment.authorized.v1" })
                await Expect(page.Timeline(type)).ToHaveAttributeAsync("data-compensation", "false");
            await Expect(page.Locator("[data-testid=timeline-entry][data-compensation=true]")).ToHaveCountAsync(0);
            var types = await page.Id("timeline-entry").EvaluateAllAsync<string[]>("els => els.map(e => e.getAttribute('data-type'))");
            Assert.True(Array.IndexOf(types, "order.created.v1") is 0, $"the timeline starts with order.created.v1: {string.Join(", ", types)}");
            Assert.True(Array.IndexOf(types, "inventory.reserved.v2") < Array.IndexOf(types, "payment.authorized.v1"),
                $"the timeline is in saga order: {string.Join(", ", types)}");
            await page.AssertSameDocumentAsync(mark);

            // The trace link opens this order's trace in the trace viewer run.sh started, which holds it.
            var traceLink = page.Id("trace-link");
            await Expect(traceLink).ToHaveAttributeAsync("href",
                new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(stack.TraceViewer.GetLeftPart(UriPartial.Authority)) + "/.*" + orderId));
            var href = (await traceLink.GetAttributeAsync("href"))!;
            using var viewer = new HttpClient { BaseAddress = stack.TraceViewer, Timeout = TimeSpan.FromSeconds(30) };
            await Eventually.True(async () => (await viewer.GetStringAsync("/api/telemetry/traces?limit=100000")).Contains(orderId.ToString()),
                TimeSpan.FromSeconds(60), $"the trace viewer to hold spans of order {orderId}");
            Assert.True((await viewer.GetAsync(href)).IsSuccessStatusCode, $"the trace link {href} answers");

            // Back on the list, the order has settled there too.
            await page.NavAsync("orders", "/orders");
            await page.Id("orders-filter-user").FillAsync(user);
            await Expect(page.OrderRow(orderId)).ToHaveAttributeAsync("data-status", "CONFIRMED");
        }
        finally { await Admin.ResumeAsync(stack, "payment"); }
    }

    [Fact]
    public async Task A_declined_order_ends_FAILED_with_its_compensation_and_the_inventory_page_shows_the_stock_back()
    {
        var sku = Ui.Unique("UI-DECL");
        var user = Ui.Unique("decline-ui-bob"); // payment declines every order of a decline-* user
        var (context, page) = await stack.SignedInAsync("/inventory", user: user);
        await using var _ = context;

        // A private SKU, stocked through the inventory page's own form.
        await page.EnterAsync("restock-sku", sku);
        await page.EnterAsync("restock-qty", "10");
        await page.Id("restock-submit").ClickAsync();
        await Expect(page.StockRow(sku).GetByTestId("stock-available")).ToHaveTextAsync("10");
        await Expect(page.StockRow(sku).GetByTestId("stock-reserved")).ToHaveTextAsync("0");
        // Orders are priced from the catalogue: the SKU needs a price (a SKU without one is not for sale).
        await page.EnterAsync("price-sku", sku);
        await page.EnterAsync("price-name", "Declined demo");
        await page.EnterAsync("price-unit", "2.50");
        await page.Id("price-submit").ClickAsync();
        await Expect(page.Id("price-result")).ToContainTextAsync($"{sku}: 2.50 EUR");

        // The inventory page stays open in a second tab (same sign-in) and must follow the saga by itself.
        var inventory = page;
        var inventoryMark = await inventory.MarkDocumentAsync();
        var orders = await context.NewPageAsync();
        await orders.GotoAsync("/orders");

        await Admin.PauseAsync(stack, "payment"); // holds the reservation in place so the page can show it
        try
        {
            var orderId = await orders.PlaceOrderAsync(user, sku, qty: 3, decline: true);
            await orders.Id("order-placed").ClickAsync();
            await Expect(orders).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/orders/{orderId}$"));
            var orderMark = await orders.MarkDocumentAsync();
            await Expect(orders.Timeline("inventory.reserved.v2")).ToHaveAttributeAsync("data-compensation", "false", Ui.Settles);
            await Expect(orders.Id("order-status")).ToHaveTextAsync("PENDING");

            await Expect(inventory.StockRow(sku).GetByTestId("stock-available")).ToHaveTextAsync("7");
            await Expect(inventory.StockRow(sku).GetByTestId("stock-reserved")).ToHaveTextAsync("3");

            await Admin.ResumeAsync(stack, "payment");
            await Expect(orders.Id("order-status")).ToHaveTextAsync("FAILED", new() { Timeout = 60_000 });
            await Expect(orders.Id("order-reason")).ToContainTextAsync("PAYMENT_DECLINED");
            var released = orders.Timeline("inventory.released.v1");
            await Expect(released).ToHaveAttributeAsync("data-compensation", "true", Ui.Settles);
            await Expect(released).ToHaveAttributeAsync("data-service", "inventory");
            await Expect(orders.Timeline("payment.failed.v1")).ToHaveAttributeAsync("data-service", "payment");
            await Expect(orders.Timeline("payment.failed.v1")).ToHaveAttributeAsync("data-compensation", "false");
            await orders.AssertSameDocumentAsync(orderMark);
            await orders.ScreenshotAsync("order");

            // The stock came back, and the inventory page showed it without being reloaded.
            await Expect(inventory.StockRow(sku).GetByTestId("stock-available")).ToHaveTextAsync("10", new() { Timeout = 30_000 });
            await Expect(inventory.StockRow(sku).GetByTestId("stock-reserved")).ToHaveTextAsync("0");
            await Expect(inventory.StockRow(sku).GetByTestId("stock-sold")).ToHaveTextAsync("0");
            await inventory.AssertSameDocumentAsync(inventoryMark);
        }
        finally { await Admin.ResumeAsync(stack, "payment"); }
    }
}
