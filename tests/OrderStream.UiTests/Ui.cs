using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OrderStream.TestSupport;
using static Microsoft.Playwright.Assertions;

namespace OrderStream.UiTests;

/// <summary>The dashboard's pages as the tests drive them, by the test ids of docs/dashboard.md's contract.</summary>
public static class Ui
{
    /// <summary>A saga through the whole stack on two loaded cores: seconds normally, longer after a crash or a pause.</summary>
    public static readonly LocatorAssertionsToHaveAttributeOptions Settles = new() { Timeout = 60_000 };

    public static ILocator Id(this IPage page, string testId) => page.GetByTestId(testId);

    /// <summary>The element with test id <paramref name="testId"/> whose <paramref name="attribute"/> is <paramref name="value"/>.</summary>
    public static ILocator Row(this IPage page, string testId, string attribute, string value) =>
        page.Locator($"[data-testid=\"{testId}\"][{attribute}=\"{value}\"]");

    public static ILocator OrderRow(this IPage page, Guid orderId) => page.Row("order-row", "data-order-id", orderId.ToString());

    public static ILocator StockRow(this IPage page, string sku) => page.Row("stock-row", "data-sku", sku);

    public static ILocator ProductRow(this IPage page, string sku) => page.Row("product-row", "data-sku", sku);

    public static ILocator Timeline(this IPage page, string type) => page.Row("timeline-entry", "data-type", type);

    /// <summary>
    /// Types a value and leaves the field, as a person does before pressing a button: the dashboard's text
    /// fields take their value on change (blur), not on every keystroke.
    /// </summary>
    public static async Task EnterAsync(this IPage page, string testId, string value)
    {
        var field = page.Id(testId);
        await field.FillAsync(value);
        await field.BlurAsync();
    }

    /// <summary>A unique name for this test's users and SKUs: tests share one stack and never each other's data.</summary>
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>Follows a nav link: the dashboard navigates inside the page (no new document), as a person would.</summary>
    public static async Task NavAsync(this IPage page, string nav, string path)
    {
        await page.Id($"nav-{nav}").First.ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(path) + "([?#].*)?$"));
    }

    /// <summary>
    /// Fills the order form on the Orders page with one line and submits it; returns the new order's id
    /// from <c>order-placed</c> (a different one from any order placed before on this page). The order is
    /// the signed-in customer's: the page must be signed in as <paramref name="userId"/> (for
    /// <paramref name="decline"/>, a user whose id starts with "decline", whose payments are declined).
    /// </summary>
    public static async Task<Guid> PlaceOrderAsync(this IPage page, string userId, string sku, int qty = 1, bool decline = false)
    {
        Assert.True(!decline || userId.StartsWith("decline", StringComparison.Ordinal), $"a declined order needs a decline-* user, not {userId}");
        var placed = page.Id("order-placed");
        var before = await placed.CountAsync() > 0 ? await placed.GetAttributeAsync("data-order-id") : null;

        await Expect(page.Id("order-user")).ToHaveAttributeAsync("data-user", userId);
        var skuField = page.Id("order-sku-0");
        if (await skuField.EvaluateAsync<string>("e => e.tagName") == "SELECT") await skuField.SelectOptionAsync(sku);
        else await page.EnterAsync("order-sku-0", sku);
        await page.EnterAsync("order-qty-0", qty.ToString());
        await page.Id("order-submit").ClickAsync();

        await Expect(placed).ToHaveAttributeAsync("data-order-id", new Regex("^[0-9a-fA-F-]{36}$"));
        if (before is not null) await Expect(placed).Not.ToHaveAttributeAsync("data-order-id", before);
        return Guid.Parse((await placed.GetAttributeAsync("data-order-id"))!);
    }

    /// <summary>
    /// Marks the current document; <see cref="AssertSameDocumentAsync"/> then proves that no reload or full
    /// navigation happened in between, so whatever changed on the page arrived live.
    /// </summary>
    public static async Task<string> MarkDocumentAsync(this IPage page)
    {
        var mark = Guid.NewGuid().ToString("N");
        await page.EvaluateAsync("m => { window.__uiTestMark = m; }", mark);
        return mark;
    }

    public static async Task AssertSameDocumentAsync(this IPage page, string mark) =>
        Assert.True(await page.EvaluateAsync<string?>("() => window.__uiTestMark ?? null") == mark,
            "the page was reloaded or navigated away from: what it shows did not arrive live");

    /// <summary>The page fits its viewport: nothing to scroll sideways.</summary>
    public static async Task AssertNoHorizontalScrollAsync(this IPage page, string what)
    {
        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]");
        var (scroll, client) = (widths[0], widths[1]);
        Assert.True(scroll <= client, $"{what}: scrollWidth {scroll} > clientWidth {client} (horizontal scrolling)");
    }

    /// <summary>
    /// A screenshot for the docs, into the repository (docs/images), so every run refreshes them. The whole
    /// page, or only what the window shows where the page is a long list.
    /// </summary>
    public static async Task ScreenshotAsync(this IPage page, string name, bool fullPage = true)
    {
        var dir = Path.Combine(Repo.Root, "docs", "images");
        Directory.CreateDirectory(dir);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, $"dashboard-{name}.png"), FullPage = fullPage });
    }
}
