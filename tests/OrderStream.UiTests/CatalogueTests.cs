using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace OrderStream.UiTests;

/// <summary>
/// The product catalogue in the dashboard: a seller sets prices on the Inventory page, a customer's order form
/// shows them (it sends none: inventory prices the order), and the order's page shows what was charged.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class CatalogueTests(DashboardStack stack)
{
    [Fact]
    public async Task A_price_a_seller_sets_on_the_inventory_page_is_the_one_a_customers_form_shows_and_the_confirmed_order_is_charged()
    {
        var sku = Ui.Unique("UI-PRICE");
        await stack.SeedAsync(sku, 20); // stock, listed at 2.50 EUR as "Product {sku}"

        var (sellerContext, seller) = await stack.SignedInAsync("/inventory", user: Ui.Unique("ui-sam"), roles: ["seller"]);
        await using var _ = sellerContext;
        var row = seller.ProductRow(sku);
        await Expect(row.GetByTestId("product-name")).ToHaveTextAsync($"Product {sku}");
        await Expect(row.GetByTestId("product-price")).ToHaveTextAsync("2.50");
        await Expect(row.GetByTestId("product-currency")).ToHaveTextAsync("EUR");

        // The form starts from the SKU's catalogue entry: a price change keeps its name and currency.
        await seller.EnterAsync("price-sku", sku);
        await Expect(seller.Id("price-name")).ToHaveValueAsync($"Product {sku}");
        await Expect(seller.Id("price-currency")).ToHaveValueAsync("EUR");

        // A price the gateway refuses: its problem answer is shown under the form, and nothing changes.
        await seller.EnterAsync("price-unit", "0");
        await seller.Id("price-submit").ClickAsync();
        await Expect(seller.Id("price-result")).ToContainTextAsync("400");
        await Expect(seller.Id("price-result")).ToContainTextAsync("unitPrice");
        await Expect(row.GetByTestId("product-price")).ToHaveTextAsync("2.50");

        await seller.EnterAsync("price-unit", "3.75");
        await seller.Id("price-submit").ClickAsync();
        await Expect(seller.Id("price-result")).ToContainTextAsync($"{sku}: 3.75 EUR");
        await Expect(row.GetByTestId("product-price")).ToHaveTextAsync("3.75");

        // A customer orders it: the form has no price field, shows the catalogue's and estimates the total from it.
        var user = Ui.Unique("ui-carla");
        var (context, page) = await stack.SignedInAsync("/orders", user: user, roles: ["customer"]);
        await using var __ = context;
        await Expect(page.Id("order-user")).ToHaveAttributeAsync("data-user", user);
        await Expect(page.Locator("[data-testid^=order-price]")).ToHaveCountAsync(0);

        var unknown = Ui.Unique("UI-NOSUCH");
        await page.EnterAsync("order-sku-0", unknown);
        await Expect(page.Id("order-unknown-sku-0")).ToContainTextAsync($"{unknown} is not in the catalogue");
        await Expect(page.Id("order-estimate")).ToHaveCountAsync(0);

        await page.EnterAsync("order-sku-0", sku);
        await page.EnterAsync("order-qty-0", "2");
        await Expect(page.Id("order-unit-price-0")).ToHaveTextAsync("3.75 EUR");
        await Expect(page.Id("order-product-name-0")).ToHaveTextAsync($"Product {sku}");
        await Expect(page.Id("order-unknown-sku-0")).ToHaveCountAsync(0);
        await Expect(page.Id("order-estimate")).ToHaveAttributeAsync("data-amount", "7.50");
        await Expect(page.Id("order-estimate-amount")).ToHaveTextAsync("7.50 EUR");
        await Expect(page.Id("order-estimate")).ToContainTextAsync("catalogue prices");

        var orderId = await page.PlaceOrderAsync(user, sku, qty: 2);
        await page.Id("order-placed").ClickAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/orders/{orderId}$"));
        await Expect(page.Id("order-status")).ToHaveTextAsync("CONFIRMED", new() { Timeout = 60_000 });
        var line = page.Row("order-line", "data-sku", sku);
        await Expect(line).ToHaveAttributeAsync("data-price", "3.75");
        await Expect(line).ToContainTextAsync("2 × 3.75 EUR = 7.50 EUR");
        await Expect(page.Id("order-total")).ToHaveAttributeAsync("data-amount", "7.50");
        await Expect(page.Id("order-total")).ToHaveAttributeAsync("data-currency", "EUR");
        await Expect(page.Id("order-total-amount")).ToHaveTextAsync("7.50 EUR");
        await Expect(page.Id("order-amount")).ToHaveTextAsync("7.50 EUR");
    }

    [Fact]
    public async Task A_customer_has_no_price_control_and_the_gateway_refuses_them_a_price_change_an_admin_reads_the_catalogue_only()
    {
        var sku = Ui.Unique("UI-NOPRICE");
        await stack.SeedAsync(sku, 5); // listed at 2.50 EUR

        var user = Ui.Unique("ui-cust");
        var (context, page) = await stack.SignedInAsync("/orders", user: user, roles: ["customer"]);
        await using var _ = context;
        await Expect(page.Id("order-user")).ToHaveAttributeAsync("data-user", user);
        // The customer reads the catalogue's prices in the order form, and changes none.
        await page.EnterAsync("order-sku-0", sku);
        await Expect(page.Id("order-unit-price-0")).ToHaveTextAsync("2.50 EUR");
        await Expect(page.Id("price-submit")).ToHaveCountAsync(0);
        await Expect(page.Id("nav-inventory")).ToHaveCountAsync(0);
        var response = await page.GotoAsync("/inventory");
        Assert.Equal(403, response!.Status);
        await Expect(page.Id("forbidden-has")).ToHaveTextAsync("customer");
        await Expect(page.Id("price-sku")).ToHaveCountAsync(0);
        await Expect(page.Id("price-submit")).ToHaveCountAsync(0);

        // Without the control, the gateway refuses a customer's price change all the same.
        using (var put = new HttpRequestMessage(HttpMethod.Put, $"/products/{sku}") { Content = JsonContent.Create(new { name = "mine now", unitPrice = 0.01m, currency = "EUR" }) })
        {
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", stack.TokenFor(user, "customer"));
            using var refused = await stack.Public.SendAsync(put);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        // An admin reads the catalogue on the Inventory page, without the control either.
        var (adminContext, admin) = await stack.SignedInAsync("/inventory", user: Ui.Unique("ui-ada"), roles: ["admin"]);
        await using var __ = adminContext;
        await Expect(admin.ProductRow(sku).GetByTestId("product-price")).ToHaveTextAsync("2.50");
        await Expect(admin.ProductRow(sku).GetByTestId("product-name")).ToHaveTextAsync($"Product {sku}");
        await Expect(admin.Id("stock-read-only")).ToBeVisibleAsync();
        await Expect(admin.Id("price-sku")).ToHaveCountAsync(0);
        await Expect(admin.Id("price-submit")).ToHaveCountAsync(0);

        var product = await stack.Public.GetFromJsonAsync<JsonElement>($"/products/{sku}");
        Assert.Equal(2.50m, product.GetProperty("unitPrice").GetDecimal());
    }
}

/// <summary>The app bar on a phone: the title, who is signed in and Sign out side by side, none over another.</summary>
[Collection(DashboardCollection.Name)]
public sealed class HeaderTests(DashboardStack stack)
{
    // What an element shows on screen: its box, and the text inside it as far as it is not clipped (a title
    // squeezed narrower than its text still paints the text beyond its box).
    private const string PaintedBox = """
        e => {
          const boxes = [e.getBoundingClientRect()];
          const walker = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
          for (let n; (n = walker.nextNode());) {
            if (!n.textContent.trim()) continue;
            const range = document.createRange();
            range.selectNodeContents(n);
            const r = range.getBoundingClientRect();
            if (r.width === 0 && r.height === 0) continue;
            let [l, t, ri, b] = [r.left, r.top, r.right, r.bottom];
            for (let a = n.parentElement; a; a = a.parentElement) {
              if (getComputedStyle(a).overflowX !== 'visible') {
                const c = a.getBoundingClientRect();
                l = Math.max(l, c.left); ri = Math.min(ri, c.right); t = Math.max(t, c.top); b = Math.min(b, c.bottom);
              }
              if (a === e) break;
            }
            if (ri > l && b > t) boxes.push({ left: l, top: t, right: ri, bottom: b });
          }
          return [Math.min(...boxes.map(x => x.left)), Math.min(...boxes.map(x => x.top)),
                  Math.max(...boxes.map(x => x.right)), Math.max(...boxes.map(x => x.bottom))];
        }
        """;

    private sealed record Box(string What, double Left, double Top, double Right, double Bottom)
    {
        public double Width => Right - Left;

        public bool Overlaps(Box other) =>
            Left < other.Right - 0.5 && other.Left < Right - 0.5 && Top < other.Bottom - 0.5 && other.Top < Bottom - 0.5;

        public override string ToString() => $"{What} [{Left:0.#}..{Right:0.#} x {Top:0.#}..{Bottom:0.#}]";
    }

    /// <summary>The least space between two neighbours of the bar.</summary>
    private const double Gap = 4;

    private static async Task<Box> PaintedAsync(IPage page, string testId)
    {
        var b = await page.Id(testId).EvaluateAsync<double[]>(PaintedBox);
        return new Box(testId, b[0], b[1], b[2], b[3]);
    }

    [Fact]
    public async Task At_390_px_the_title_the_user_and_sign_out_do_not_overlap_and_sign_out_stays_one_line()
    {
        var user = Ui.Unique("ui-someone-with-a-rather-long-user-id");

        // Sign out's height on one line: as a desktop shows it.
        var (desktopContext, desktop) = await stack.SignedInAsync("/orders", 1280, 900, user: user, roles: ["customer"]);
        await using var _ = desktopContext;
        await Expect(desktop.Id("signed-in-user")).ToHaveAttributeAsync("data-user", user);
        var oneLine = (await desktop.Id("sign-out").BoundingBoxAsync())!.Height;

        var (phoneContext, page) = await stack.SignedInAsync("/orders", 390, 844, user: user, roles: ["customer"]);
        await using var __ = phoneContext;
        await Expect(page.Id("signed-in-user")).ToHaveAttributeAsync("data-user", user);
        await Expect(page.Id("order-user")).ToHaveAttributeAsync("data-user", user);
        await Expect(page.Id("app-title")).ToHaveTextAsync("OrderStream");

        var title = await PaintedAsync(page, "app-title");
        var who = await PaintedAsync(page, "signed-in-user");
        var signOut = await PaintedAsync(page, "sign-out");
        var all = $"{title}, {who}, {signOut}";
        // Every problem at once, so a failure shows all that is wrong with the bar.
        var problems = new List<string>();
        void Check(bool ok, string problem) { if (!ok) problems.Add(problem); }
        foreach (var box in new[] { title, who, signOut })
            Check(box.Left >= 0 && box.Right <= 390, $"{box} does not lie within the 390 px width");
        Check(who.Width >= 24, $"the user's id is not shown: {who}");
        Check(!title.Overlaps(who), "the title and the user overlap");
        Check(!who.Overlaps(signOut), "the user and sign out overlap");
        Check(!title.Overlaps(signOut), "the title and sign out overlap");
        // Side by side with a clear gap, not running into each other.
        Check(who.Left - title.Right >= Gap, $"the user starts {who.Left - title.Right:0.#} px after the title (at least {Gap})");
        Check(signOut.Left - who.Right >= Gap, $"sign out starts {signOut.Left - who.Right:0.#} px after the user (at least {Gap})");

        // The title is whole (not cut), the user's id is shortened with an ellipsis and whole in its tooltip.
        Check(await page.Id("app-title").EvaluateAsync<bool>("e => e.scrollWidth <= e.clientWidth"), "the title is cut off");
        var name = page.Locator("[data-testid=signed-in-user] .os-user-name");
        Check(await name.GetAttributeAsync("title") == user, "the user's full id is not in the tooltip");
        Check(await name.EvaluateAsync<string>("e => getComputedStyle(e).textOverflow") == "ellipsis", "the user's id is not shortened with an ellipsis");

        // Sign out on one line: the height of the one-line button, and its label one line high.
        var height = (await page.Id("sign-out").BoundingBoxAsync())!.Height;
        Check(Math.Abs(height - oneLine) < 1, $"sign out is {height:0.#} px high on the phone, {oneLine:0.#} px (one line) on a desktop");
        var lines = await page.Id("sign-out").EvaluateAsync<double>(
            "e => { const l = e.querySelector('.mud-button-label'); return l.getBoundingClientRect().height / parseFloat(getComputedStyle(l).lineHeight); }");
        Check(lines < 1.5, $"sign out's label runs to {lines:0.##} lines");

        Assert.True(problems.Count == 0, $"the app bar at 390 px ({all}):\n" + string.Join("\n", problems));
    }
}
