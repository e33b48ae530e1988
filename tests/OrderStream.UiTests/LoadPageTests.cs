using static Microsoft.Playwright.Assertions;

namespace OrderStream.UiTests;

/// <summary>The Load test page runs the project's load tool against the stack and checks the books afterwards.</summary>
[Collection(DashboardCollection.Name)]
public sealed class LoadPageTests(DashboardStack stack)
{
    [Fact]
    public async Task A_20_second_load_test_started_from_the_page_finishes_with_its_summary_charts_and_a_passed_books_check()
    {
        var (context, page) = await stack.SignedInAsync("/load");
        await using var _ = context;
        var mark = await page.MarkDocumentAsync();

        // 5 s ramp from 2/s to 20/s, then 15 s held there; 5 % of the orders from users payment declines.
        await page.EnterAsync("load-start-rate", "2");
        await page.EnterAsync("load-target-rate", "20");
        await page.EnterAsync("load-ramp", "5");
        await page.EnterAsync("load-hold", "15");
        await page.EnterAsync("load-decline-share", "0.05");
        await page.Id("load-start").ClickAsync();

        await Expect(page.Id("load-state")).ToHaveTextAsync("running");
        await Expect(page.Id("load-accepted")).Not.ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\s*0?(\.0+)?\s*$"), new() { Timeout = 20_000 });
        await Expect(page.Id("load-state")).ToHaveTextAsync("finished", new() { Timeout = 180_000 });
        await Expect(page.Id("load-summary")).ToBeVisibleAsync();
        await Expect(page.Id("load-books")).ToHaveAttributeAsync("data-passed", "true", new() { Timeout = 120_000 });
        await Expect(page.Locator("[data-testid=load-check][data-ok=true]").First).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid=load-check][data-ok=false]")).ToHaveCountAsync(0);
        await Expect(page.Id("chart-rates")).ToBeVisibleAsync();
        await Expect(page.Id("chart-latency")).ToBeVisibleAsync();
        await page.AssertSameDocumentAsync(mark);
        await page.ScreenshotAsync("load");
    }
}
