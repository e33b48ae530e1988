using System.Text.RegularExpressions;
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
        foreach (var svc in new[] { "gateway", "inventory", "payment", "materializer", "fulfilment" })
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
        await Expect(login.Id("login-token")).ToBeVisibleAsync();
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

/// <summary>
/// Signing in with a token of the stack (ordersctl token), and the pages each role opens: the dashboard acts
/// with the signed-in person's own token, so nothing in it is reachable without one.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class SignInTests(DashboardStack stack)
{
    private static readonly Regex LoginUrl = new("/login([?#].*)?$");

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
        await Expect(page).ToHaveURLAsync(LoginUrl);
        await Expect(page.Id("login-token")).ToBeVisibleAsync();
        await Expect(page.Id("nav-operations")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_token_the_gateway_would_refuse_shows_why_and_signs_nobody_in_an_admin_token_opens_operations_and_stays_on_the_server()
    {
        await using var context = await stack.NewContextAsync();
        var page = await context.NewPageAsync();
        var admin = stack.TokenFor(Ui.Unique("ui-ada"), "admin");
        // The same claims signed by another key: what a forged token looks like.
        var otherKey = Path.Combine(stack.State + "-forger");
        var forged = OrderStream.Stack.LocalIdentity.Create(otherKey).Issue("ui-mallory", ["admin"], TimeSpan.FromHours(1));
        Directory.Delete(otherKey, recursive: true);

        foreach (var (token, reason) in new[] { (forged, "signature"), (Tampered(admin), "signature"), ("not-a-token", "not valid") })
        {
            await page.GotoAsync("/login");
            await page.Id("login-token").FillAsync(token);
            await page.Id("login-submit").ClickAsync();
            await Expect(page.Id("login-error")).ToContainTextAsync(reason);
            await Expect(page).ToHaveURLAsync(LoginUrl);
        }
        await page.GotoAsync("/operations");
        await Expect(page).ToHaveURLAsync(LoginUrl);

        await stack.SignInAsync(page, admin);
        await page.GotoAsync("/operations");
        await Expect(page.Id("service-gateway")).ToHaveAttributeAsync("data-up", "true");
        await Expect(page.Id("signed-in-user")).ToHaveAttributeAsync("data-roles", "admin");
        // The token is kept on the server: not in the page, and the cookie holds it only encrypted.
        Assert.DoesNotContain(admin, await page.ContentAsync());
        Assert.All(await context.CookiesAsync(), c => Assert.DoesNotContain(admin, c.Value));

        // Signing out ends it.
        await page.Id("sign-out").ClickAsync();
        await Expect(page).ToHaveURLAsync(LoginUrl);
        await page.GotoAsync("/operations");
        await Expect(page).ToHaveURLAsync(LoginUrl);

        // The probes stay open to the supervisor and to orchestrators.
        using var http = new HttpClient { BaseAddress = stack.Dashboard };
        Assert.True((await http.GetAsync("/healthz")).IsSuccessStatusCode);
        Assert.True((await http.GetAsync("/readyz")).IsSuccessStatusCode);
    }

    [Theory]
    [InlineData("/operations", "admin")]
    [InlineData("/deadletters", "admin")]
    [InlineData("/load", "admin")]
    [InlineData("/inventory", "seller or admin")]
    public async Task A_customer_is_refused_the_operator_pages_with_a_403_naming_the_role_and_keeps_their_own_orders(string path, string needs)
    {
        var user = Ui.Unique("ui-cust");
        var (context, page) = await stack.SignedInAsync("/orders", user: user, roles: ["customer"]);
        await using var _ = context;
        await Expect(page.Id("order-user")).ToHaveAttributeAsync("data-user", user);
        await Expect(page.Id("nav-orders")).ToBeVisibleAsync();
        await Expect(page.Id("nav-operations")).ToHaveCountAsync(0);
        await Expect(page.Id("nav-inventory")).ToHaveCountAsync(0);

        var response = await page.GotoAsync(path);
        Assert.Equal(403, response!.Status);
        await Expect(page).ToHaveURLAsync(new Regex("/forbidden"));
        await Expect(page.Id("forbidden-needs")).ToHaveTextAsync(needs);
        await Expect(page.Id("forbidden-has")).ToHaveTextAsync("customer");
        await Expect(page.Id("service-gateway")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task A_seller_changes_stock_and_reads_every_order_but_places_none_and_an_admin_reads_stock_without_the_forms()
    {
        var (context, page) = await stack.SignedInAsync("/", user: Ui.Unique("ui-sam"), roles: ["seller"]);
        await using var _ = context;
        await Expect(page).ToHaveURLAsync(new Regex("/inventory$")); // a seller's first page
        await Expect(page.Id("restock-submit")).ToBeVisibleAsync();
        // A seller ships orders, so reads them all (and filters by user), but the order form is a customer's.
        var response = await page.GotoAsync("/orders");
        Assert.Equal(200, response!.Status);
        await Expect(page.Id("orders-filter-user")).ToBeVisibleAsync();
        await Expect(page.Id("order-submit")).ToHaveCountAsync(0);

        var (adminContext, admin) = await stack.SignedInAsync("/inventory", user: Ui.Unique("ui-ada"), roles: ["admin"]);
        await using var __ = adminContext;
        await Expect(admin.Id("stock-row").First).ToBeVisibleAsync();
        await Expect(admin.Id("stock-read-only")).ToBeVisibleAsync();
        await Expect(admin.Id("restock-submit")).ToHaveCountAsync(0);
    }

    // One character of the signature changed: the claims read the same, the signature no longer matches them.
    private static string Tampered(string token)
    {
        var i = token.Length - 10;
        return token[..i] + (token[i] == 'A' ? 'B' : 'A') + token[(i + 1)..];
    }
}
