using Microsoft.Playwright;
using OrderStream.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace OrderStream.UiTests;

/// <summary>Every page at desktop and phone width, with no sideways scrolling; the docs' screenshots of them.</summary>
[Collection(DashboardCollection.Name)]
public sealed class LayoutTests(DashboardStack stack)
{
    [Theory]
    [InlineData(1280, 900)]
    [InlineData(390, 844)]
    public async Task Every_page_fits_the_width_without_horizontal_scrolling(int width, int height)
    {
        var orderId = await OrdersToShowAsync();
        var phone = width < 600;
        var (context, page) = await stack.SignedInAsync("/orders", width, height);
        await using var _ = context;

        // Each page once it shows what it is for (rows, a timeline, service cards), not its empty frame.
        await Expect(page.Id("order-row").First).ToBeVisibleAsync();
        await page.AssertNoHorizontalScrollAsync($"/orders at {width} px");
        await page.ScreenshotAsync(phone ? "orders-phone" : "orders", fullPage: false); // the list runs to 50 rows

        await page.GotoAsync($"/orders/{orderId}");
        await Expect(page.Id("order-status")).ToHaveTextAsync("CONFIRMED", new() { Timeout = 60_000 });
        await Expect(page.Id("timeline-entry").First).ToBeVisibleAsync();
        await page.AssertNoHorizontalScrollAsync($"/orders/{{id}} at {width} px");

        await page.GotoAsync("/inventory");
        await Expect(page.Id("stock-row").First).ToBeVisibleAsync();
        await page.AssertNoHorizontalScrollAsync($"/inventory at {width} px");
        if (!phone) await page.ScreenshotAsync("inventory");

        await page.GotoAsync("/operations");
        foreach (var svc in new[] { "gateway", "inventory", "payment", "materializer" })
            await Expect(page.Id($"service-{svc}")).ToHaveAttributeAsync("data-up", "true", new() { Timeout = 60_000 });
        await page.AssertNoHorizontalScrollAsync($"/operations at {width} px");
        if (phone) await page.ScreenshotAsync("operations-phone");

        await page.GotoAsync("/deadletters");
        await Expect(page.Id("nav-deadletters").First).ToBeVisibleAsync();
        await page.AssertNoHorizontalScrollAsync($"/deadletters at {width} px");

        await page.GotoAsync("/load");
        await Expect(page.Id("load-start")).ToBeVisibleAsync();
        await page.AssertNoHorizontalScrollAsync($"/load at {width} px");

        await using var anonymous = await stack.NewContextAsync(width, height);
        var login = await anonymous.NewPageAsync();
        await login.GotoAsync("/login");
        await Expect(login.Id("login-key")).ToBeVisibleAsync();
        await login.AssertNoHorizontalScrollAsync($"/login at {width} px");
    }

    /// <summary>A few settled orders (one declined) so the list and the order page have something to show; returns a confirmed one.</summary>
    private async Task<Guid> OrdersToShowAsync()
    {
        var sku = Ui.Unique("UI-LAYOUT");
        await stack.SeedAsync(sku, 50);
        var confirmed = await stack.PlaceAsync(Ui.Unique("ui-frank"), sku, 2);
        await stack.PlaceAsync(Ui.Unique("ui-grace"), sku, 1);
        await stack.PlaceAsync(Ui.Unique("decline-heidi"), sku, 3);
        return confirmed;
    }
}

/// <summary>The dashboard holds the operator key, so nothing in it is reachable without signing in with that key.</summary>
[Collection(DashboardCollection.Name)]
public sealed class SignInTests(DashboardStack stack)
{
    [Theory]
    [InlineData("/orders")]
    [InlineData("/operations")]
    [InlineData("/deadletters")]
    [InlineData("/load")]
    public async Task A_page_without_signing_in_redirects_to_the_login_page(string path)
    {
        await using var context = await stack.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(path);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login([?#].*)?$"));
        await Expect(page.Id("login-key")).ToBeVisibleAsync();
        await Expect(page.Id("nav-operations")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_wrong_key_shows_an_error_and_signs_nobody_in_the_right_one_does_and_never_reaches_the_browser()
    {
        await using var context = await stack.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync("/login");
        await page.Id("login-key").FillAsync(stack.AdminKey + "x");
        await page.Id("login-submit").ClickAsync();
        await Expect(page.Id("login-error")).ToBeVisibleAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login([?#].*)?$"));
        await page.GotoAsync("/operations");
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login([?#].*)?$"));

        await page.Id("login-key").FillAsync(stack.AdminKey);
        await page.Id("login-submit").ClickAsync();
        await Expect(page).Not.ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/login"));
        await page.GotoAsync("/operations");
        await Expect(page.Id("service-gateway")).ToHaveAttributeAsync("data-up", "true");
        Assert.DoesNotContain(stack.AdminKey, await page.ContentAsync());
        Assert.All(await context.CookiesAsync(), c => Assert.DoesNotContain(stack.AdminKey, c.Value));

        // The probes stay open to the supervisor and to orchestrators.
        using var http = new HttpClient { BaseAddress = stack.Dashboard };
        Assert.True((await http.GetAsync("/healthz")).IsSuccessStatusCode);
        Assert.True((await http.GetAsync("/readyz")).IsSuccessStatusCode);
    }
}
