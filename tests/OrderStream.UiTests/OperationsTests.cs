using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OrderStream.TestSupport;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace OrderStream.UiTests;

/// <summary>The Operations and Dead letters pages steering the running stack: pause, crash, failures and redrive.</summary>
[Collection(DashboardCollection.Name)]
public sealed class OperationsTests(DashboardStack stack, ITestOutputHelper output)
{
    [Fact]
    public async Task Pausing_inventory_leaves_orders_pending_and_listed_as_stuck_until_it_is_resumed()
    {
        var sku = Ui.Unique("UI-PAUSE");
        var user = Ui.Unique("ui-carol");
        await stack.SeedAsync(sku, 10);
        var (context, ops) = await stack.SignedInAsync("/operations", user: user);
        await using var _ = context;
        var orders = await context.NewPageAsync();
        await orders.GotoAsync("/orders");
        var opsMark = await ops.MarkDocumentAsync();
        var ordersMark = await orders.MarkDocumentAsync();

        try
        {
            await Expect(ops.Id("consumer-state-inventory")).ToHaveTextAsync("running");
            await ops.Id("consumer-pause-inventory").ClickAsync();
            await Expect(ops.Id("consumer-state-inventory")).ToHaveTextAsync("paused");

            var placed = new List<Guid>();
            for (var i = 0; i < 3; i++) placed.Add(await orders.PlaceOrderAsync(user, sku));
            await orders.Id("orders-filter-user").FillAsync(user);
            foreach (var id in placed) await Expect(orders.OrderRow(id)).ToHaveAttributeAsync("data-status", "PENDING");

            await Eventually.True(async () => int.TryParse((await ops.Id("orders-pending").InnerTextAsync()).Trim(), out var n) && n >= placed.Count,
                TimeSpan.FromSeconds(15), $"orders-pending to count the {placed.Count} paused orders");
            // Listed once older than the page's stuck threshold (a fixed 30 s on the Operations page).
            foreach (var id in placed)
                await Expect(ops.Row("stuck-row", "data-order-id", id.ToString())).ToBeVisibleAsync(new() { Timeout = 75_000 });
            await Eventually.True(async () => int.TryParse((await ops.Id("orders-stuck").InnerTextAsync()).Trim(), out var n) && n >= placed.Count,
                TimeSpan.FromSeconds(15), $"orders-stuck to count the {placed.Count} paused orders");
            await ops.ScreenshotAsync("operations");

            await ops.Id("consumer-resume-inventory").ClickAsync();
            await Expect(ops.Id("consumer-state-inventory")).ToHaveTextAsync("running");
            foreach (var id in placed)
            {
                await Expect(orders.OrderRow(id)).ToHaveAttributeAsync("data-status", "CONFIRMED", Ui.Settles);
                await Expect(ops.Row("stuck-row", "data-order-id", id.ToString())).ToHaveCountAsync(0, new() { Timeout = 30_000 });
            }
            await ops.AssertSameDocumentAsync(opsMark);
            await orders.AssertSameDocumentAsync(ordersMark);
        }
        finally { await Admin.ResumeAsync(stack, "inventory"); }
    }

    [Fact]
    public async Task Crashing_payment_from_the_page_shows_it_down_then_restarted_and_every_order_placed_meanwhile_settles_with_balanced_books()
    {
        var sku = Ui.Unique("UI-CRASH");
        var user = Ui.Unique("ui-dave");
        await stack.SeedAsync(sku, 100);
        var (context, ops) = await stack.SignedInAsync("/operations");
        await using var _ = context;
        var mark = await ops.MarkDocumentAsync();
        var card = ops.Id("service-payment");
        await Expect(card).ToHaveAttributeAsync("data-up", "true");
        var pidFile = Path.Combine(stack.State, "payment.pid");
        var pidBefore = File.ReadAllText(pidFile).Trim();

        await ops.Id("crash-payment").ClickAsync();
        await ops.Id("crash-confirm").ClickAsync();
        await Expect(card).ToHaveAttributeAsync("data-up", "false", new() { Timeout = 20_000 });

        // Orders arrive while payment is down: the gateway takes them, inventory reserves, and they wait for payment.
        var placed = new List<Guid>();
        for (var i = 0; i < 5; i++) placed.Add(await stack.PlaceAsync(user, sku));

        await Expect(card).ToHaveAttributeAsync("data-up", "true", new() { Timeout = 60_000 });
        Assert.NotEqual(pidBefore, File.ReadAllText(pidFile).Trim());
        Assert.Contains("payment exited", stack.SupervisorLog());
        await ops.AssertSameDocumentAsync(mark);

        await ops.NavAsync("orders", "/orders");
        await ops.Id("orders-filter-user").FillAsync(user);
        foreach (var id in placed)
            await Expect(ops.OrderRow(id)).ToHaveAttributeAsync("data-status", "CONFIRMED", new() { Timeout = 90_000 });

        var (code, books) = await stack.CheckBooksAsync();
        output.WriteLine(books);
        Assert.True(code == 0, $"the books check failed (exit {code}):\n{books}");
    }

    [Fact]
    public async Task Dead_letters_are_redriven_from_the_UI_once_the_failure_is_fixed_and_their_orders_settle()
    {
        const string dlq = "inventory.reserved.v2.dlq"; // payment's input: where its dead letters go
        var sku = Ui.Unique("UI-DLQ");
        var user = Ui.Unique("ui-erin");
        await stack.SeedAsync(sku, 10);
        var (context, page) = await stack.SignedInAsync("/orders", user: user);
        await using var _ = context;

        try
        {
            // Payment's every attempt fails as an unexpected error (mode Error): three attempts, then the message
            // goes to the .dlq topic and the order waits. (Transient failures are retried for ever instead.)
            await page.NavAsync("operations", "/operations");
            await page.EnterAsync("failures-rate-payment", "1");
            await page.Id("failures-mode-payment").SelectOptionAsync("Error");
            await page.Id("failures-apply-payment").ClickAsync();
            await Expect(page.Id("ops-result")).ToContainTextAsync("Error");

            await page.NavAsync("orders", "/orders");
            var orderId = await page.PlaceOrderAsync(user, sku);

            await page.NavAsync("deadletters", "/deadletters");
            var mark = await page.MarkDocumentAsync();
            var topicRow = page.Row("dlq-topic", "data-topic", dlq);
            await Expect(topicRow).ToHaveAttributeAsync("data-waiting", new Regex("^[1-9][0-9]*$"), new() { Timeout = 60_000 });
            await topicRow.ClickAsync();
            var message = page.Id("dlq-message").Filter(new() { HasText = orderId.ToString() });
            await Expect(message).ToBeVisibleAsync();
            await Expect(message).ToContainTextAsync("Injected failure");
            await page.ScreenshotAsync("deadletters");
            await page.AssertSameDocumentAsync(mark);

            // The order waits for the redrive.
            await page.NavAsync("orders", "/orders");
            await page.Id("orders-filter-user").FillAsync(user);
            await Expect(page.OrderRow(orderId)).ToHaveAttributeAsync("data-status", "PENDING");

            // The fix, from the Operations page: no more injected failures.
            await page.NavAsync("operations", "/operations");
            await page.EnterAsync("failures-rate-payment", "0");
            await page.Id("failures-apply-payment").ClickAsync();
            await Expect(page.Id("ops-result")).ToContainTextAsync("injecting 0 ");
            await Eventually.True(async () => await Admin.FailureRateAsync(stack, "payment") == 0, TimeSpan.FromSeconds(15),
                "the Operations page to set payment's failure rate to 0");

            await page.NavAsync("deadletters", "/deadletters");
            await page.Row("dlq-topic", "data-topic", dlq).ClickAsync();
            await page.Id("redrive-all").ClickAsync();
            await Expect(page.Id("dlq-result")).ToBeVisibleAsync();
            await Expect(page.Row("dlq-topic", "data-topic", dlq)).ToHaveAttributeAsync("data-waiting", "0");
            await Expect(page.Id("dlq-message").Filter(new() { HasText = orderId.ToString() })).ToHaveAttributeAsync("data-redriven", "true");

            await page.NavAsync("orders", "/orders");
            await page.Id("orders-filter-user").FillAsync(user);
            await Expect(page.OrderRow(orderId)).ToHaveAttributeAsync("data-status", "CONFIRMED", Ui.Settles);
        }
        finally { await Admin.InjectFailuresAsync(stack, "payment", 0, "Transient", null); }
    }
}
