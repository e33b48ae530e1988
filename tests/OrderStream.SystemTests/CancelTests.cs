using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

/// <summary>POST /orders/{id}/cancel at each stage of the saga, compensated through the saga, with the books checked after each.</summary>
public sealed class CancelTests(OrderStreamStack stack, ITestOutputHelper output) : IClassFixture<OrderStreamStack>
{
    [Fact]
    public async Task A_cancel_before_inventory_saw_the_order_leaves_nothing_reserved_or_paid()
    {
        await stack.SeedAsync("K-1", 10);
        await stack.Inventory.StopAsync();
        Guid id;
        try
        {
            id = await stack.PlaceAsync(Orders.Body("kate", ("K-1", 2, 5.00m)));
            var accepted = await Compensation.AcceptedAsync(await stack.CancelAsync(id, new { reason = "ordered by mistake" }));
            Assert.Equal((id, "ordered by mistake"), (accepted.OrderId, accepted.Reason));
        }
        finally
        {
            await stack.Inventory.StartAsync();
        }

        var view = await stack.WaitStatusAsync(id, OrderStatus.Cancelled);
        Assert.Equal("ordered by mistake", view.Reason);
        Assert.Contains(view.Timeline, t => t.Type == Topics.OrderCancelRequested);
        Assert.Equal(new Orders.Stock("K-1", 10, 0, 0, 10), await stack.StockAsync("K-1"));
        await stack.AssertBooksBalanceAsync(output);
        // Inventory reads order.created and the cancel from two topics, in either order when both are waiting:
        // cancel first, nothing is reserved; order.created first, the reservation is released at once.
        // Either way nothing stays taken from stock and nothing is paid.
        Assert.Equal(0, await stack.QueryOneAsync<long>("inventory", "SELECT count(*) FROM reservations WHERE order_id = @id AND status <> 'RELEASED'", new { id }));
        Assert.Equal(0, await stack.QueryOneAsync<long>("payment", "SELECT count(*) FROM payments WHERE order_id = @id AND status = 'AUTHORIZED'", new { id }));
    }

    [Fact]
    public async Task A_cancel_after_the_reservation_releases_it_and_payment_never_keeps_the_money()
    {
        await stack.SeedAsync("K-2", 10);
        await stack.Payment.StopAsync();
        Guid id;
        try
        {
            id = await stack.PlaceAsync(Orders.Body("liam", ("K-2", 3, 5.00m)));
            await stack.WaitTimelineAsync(id, Topics.InventoryReserved);
            Assert.Equal(new Orders.Stock("K-2", 7, 3, 0, 10), await stack.StockAsync("K-2"));

            await Compensation.AcceptedAsync(await stack.CancelAsync(id, new { reason = "too slow" }));
            var view = await stack.WaitStatusAsync(id, OrderStatus.Cancelled);
            Assert.Equal("too slow", view.Reason);
            Assert.Equal(new Orders.Stock("K-2", 10, 0, 0, 10), await stack.StockAsync("K-2"));
        }
        finally
        {
            // Payment now finds the reservation and its release waiting: it authorizes nothing, or voids what it authorized.
            await stack.Payment.StartAsync();
        }
        await stack.AssertBooksBalanceAsync(output);
        var payment = await stack.QueryAsync<string>("payment", "SELECT status FROM payments WHERE order_id = @id", new { id });
        var closed = await stack.QueryOneAsync<long>("payment", "SELECT count(*) FROM closed_orders WHERE order_id = @id", new { id });
        output.WriteLine($"payment after the cancel: {(payment.Count == 0 ? "none" : payment[0])}, closed before deciding: {closed == 1}");
        Assert.True(payment is ["VOIDED"] || (payment.Count == 0 && closed == 1), $"payment {string.Join(",", payment)}, closed {closed}");
        Assert.Equal(OrderStatus.Cancelled, (await stack.WaitStatusAsync(id, OrderStatus.Cancelled)).Status);
        Assert.Equal(new Orders.Stock("K-2", 10, 0, 0, 10), await stack.StockAsync("K-2"));
    }

    [Fact]
    public async Task A_cancel_after_confirmation_returns_the_sale_to_stock_and_refunds_the_payment()
    {
        await stack.SeedAsync("K-3", 10);
        var id = await stack.PlaceAsync(Orders.Body("mia", ("K-3", 4, 2.50m)));
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(id)).Status);
        Assert.Equal(new Orders.Stock("K-3", 6, 0, 4, 10), await stack.StockAsync("K-3"));

        var accepted = await Compensation.AcceptedAsync(await stack.CancelAsync(id));
        Assert.Equal(FailureReasons.Cancelled, accepted.Reason);
        var view = await stack.WaitStatusAsync(id, OrderStatus.Cancelled);
        Assert.Equal(FailureReasons.Cancelled, view.Reason);
        await stack.WaitTimelineAsync(id, Topics.InventoryReturned, Topics.PaymentRefunded);

        Assert.Equal(new Orders.Stock("K-3", 10, 0, 0, 10), await stack.StockAsync("K-3"));
        Assert.Equal("REFUNDED", await stack.QueryOneAsync<string>("payment", "SELECT status FROM payments WHERE order_id = @id", new { id }));
        await stack.AssertBooksBalanceAsync(output);
    }

    [Fact]
    public async Task A_cancel_of_a_failed_order_is_409_and_changes_nothing()
    {
        await stack.SeedAsync("K-4", 10);
        var declined = await stack.PlaceAsync(Orders.Body("decline-nina", ("K-4", 1, 1.00m)));
        var outOfStock = await stack.PlaceAsync(Orders.Body("nina", ("K-4", 500, 1.00m)));
        Assert.Equal(FailureReasons.PaymentDeclined, (await stack.WaitSettledAsync(declined)).Reason);
        Assert.Equal(FailureReasons.OutOfStock, (await stack.WaitSettledAsync(outOfStock)).Reason);

        foreach (var id in new[] { declined, outOfStock })
        {
            var problem = await ProblemAsync(await stack.CancelAsync(id, new { reason = "late" }), HttpStatusCode.Conflict);
            Assert.Contains(OrderStatus.Failed, problem.GetProperty("title").GetString());
        }
        Assert.Equal(0, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM outbox WHERE topic = @Topic AND msg_key IN (@a, @b)",
            new { Topic = Topics.OrderCancelRequested, a = declined.ToString(), b = outOfStock.ToString() }));
        var after = await stack.WaitSettledAsync(declined);
        Assert.Equal((OrderStatus.Failed, FailureReasons.PaymentDeclined), (after.Status, after.Reason));
        await stack.AssertBooksBalanceAsync(output);
    }

    [Fact]
    public async Task A_repeated_cancel_gets_the_same_answer_and_compensates_once()
    {
        await stack.SeedAsync("K-5", 10);
        var id = await stack.PlaceAsync(Orders.Body("omar", ("K-5", 2, 3.00m)));
        Assert.Equal(OrderStatus.Confirmed, (await stack.WaitSettledAsync(id)).Status);

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => stack.CancelAsync(id, new { reason = $"reason {i}" })));
        var answers = await Task.WhenAll(concurrent.Select(Compensation.AcceptedAsync));
        var first = Assert.Single(answers.Distinct());
        await stack.WaitStatusAsync(id, OrderStatus.Cancelled);
        await stack.WaitTimelineAsync(id, Topics.PaymentRefunded);
        // Once cancelled, another request still answers as the first did.
        Assert.Equal(first, await Compensation.AcceptedAsync(await stack.CancelAsync(id, new { reason = "again" })));
        Assert.Equal(first.Reason, (await stack.WaitStatusAsync(id, OrderStatus.Cancelled)).Reason);

        await stack.AssertBooksBalanceAsync(output);
        Assert.Equal(1, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM outbox WHERE topic = @Topic AND msg_key = @Key",
            new { Topic = Topics.OrderCancelRequested, Key = id.ToString() }));
        Assert.Equal(1, await stack.QueryOneAsync<long>("inventory", "SELECT count(*) FROM outbox WHERE topic = @Topic AND msg_key = @Key",
            new { Topic = Topics.InventoryReturned, Key = id.ToString() }));
        Assert.Equal(1, await stack.QueryOneAsync<long>("payment", "SELECT count(*) FROM outbox WHERE topic = @Topic AND msg_key = @Key",
            new { Topic = Topics.PaymentRefunded, Key = id.ToString() }));
        Assert.Equal(new Orders.Stock("K-5", 10, 0, 0, 10), await stack.StockAsync("K-5"));
    }

    [Fact]
    public async Task Bad_cancel_requests_get_a_4xx_problem()
    {
        await stack.SeedAsync("K-6", 10);
        var id = await stack.PlaceAsync(Orders.Body("pia", ("K-6", 1, 1.00m)));
        await ProblemAsync(await stack.Http.PostAsync("/orders/not-a-uuid/cancel", null), HttpStatusCode.BadRequest);
        await ProblemAsync(await stack.CancelAsync(Guid.NewGuid()), HttpStatusCode.NotFound);
        // Another user's order is answered like an unknown one.
        await ProblemAsync(await stack.CancelAsync(id, new { userId = "someone-else" }), HttpStatusCode.NotFound);
        var errors = (await ProblemAsync(await stack.CancelAsync(id, new { reason = new string('x', 201) }), HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("reason", out _));
        await ProblemAsync(await stack.Http.PostAsync($"/orders/{id}/cancel", new StringContent("{\"reason\":", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest);
        await ProblemAsync(await stack.Http.PostAsync($"/orders/{id}/cancel", new StringContent("reason=x", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType);
        await ProblemAsync(await stack.Http.PostAsync($"/orders/{id}/cancel", new StringContent(new string(' ', 5000), Encoding.UTF8, "application/json")), HttpStatusCode.RequestEntityTooLarge);

        // None of those touched the order; its own user may still cancel it.
        Assert.Equal(0, await stack.QueryOneAsync<long>("gateway", "SELECT count(*) FROM order_cancellations WHERE order_id = @id", new { id }));
        await Compensation.AcceptedAsync(await stack.CancelAsync(id, new { userId = "pia" }));
        await stack.WaitStatusAsync(id, OrderStatus.Cancelled);
        await stack.AssertBooksBalanceAsync(output);
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(text).RootElement;
    }
}
