using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Xunit.Abstractions;

namespace OrderStream.SystemTests;

/// <summary>What the cancel and deadline tests share: cancel requests, waiting for a status, and the checker.</summary>
internal static class Compensation
{
    public sealed record CancelAccepted(Guid OrderId, string Reason, DateTimeOffset CancelRequestedAt);

    public static Task<HttpResponseMessage> CancelAsync(this OrderStreamStack stack, Guid orderId, object? body = null) =>
        body is null
            ? stack.Http.PostAsync($"/orders/{orderId}/cancel", null)
            : stack.Http.PostAsJsonAsync($"/orders/{orderId}/cancel", body);

    /// <summary>A cancel the gateway accepted: 202, Location of the order, and the body it answers (the same for repeats).</summary>
    public static async Task<CancelAccepted> AcceptedAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"expected 202, got {response.StatusCode}: {text}");
        var accepted = JsonSerializer.Deserialize<CancelAccepted>(text, EventJson.Options)!;
        Assert.Equal($"/orders/{accepted.OrderId}", response.Headers.Location?.ToString());
        return accepted;
    }

    /// <summary>Polls the order until it has <paramref name="status"/> (a settled order can still move from CONFIRMED to CANCELLED).</summary>
    public static Task<OrderView> WaitStatusAsync(this OrderStreamStack stack, Guid orderId, string status, TimeSpan? timeout = null) =>
        Eventually.Get(async () =>
        {
            var view = await stack.Http.GetFromJsonAsync<OrderView>($"/orders/{orderId}", EventJson.Options);
            return view?.Status == status ? view : null;
        }, timeout ?? TimeSpan.FromSeconds(60), $"order {orderId} to be {status}", TimeSpan.FromMilliseconds(100));

    /// <summary>Waits until the view's timeline holds every one of <paramref name="types"/> (events that follow the status change).</summary>
    public static Task<OrderView> WaitTimelineAsync(this OrderStreamStack stack, Guid orderId, params string[] types) =>
        Eventually.Get(async () =>
        {
            var view = await stack.Http.GetFromJsonAsync<OrderView>($"/orders/{orderId}", EventJson.Options);
            return view is not null && types.All(t => view.Timeline.Any(e => e.Type == t)) ? view : null;
        }, TimeSpan.FromSeconds(60), $"{string.Join(", ", types)} in the timeline of {orderId}");

    public static Task<Orders.Stock> StockAsync(this OrderStreamStack stack, string sku) =>
        stack.Http.GetFromJsonAsync<Orders.Stock>($"/inventory/{sku}")!;

    /// <summary>Once nothing is in flight, the checker must find the books clean.</summary>
    public static async Task AssertBooksBalanceAsync(this OrderStreamStack stack, ITestOutputHelper output)
    {
        var checker = new OrderStreamChecker(stack.CheckOptions);
        await checker.WaitUntilQuietAsync(TimeSpan.FromSeconds(90));
        var report = await checker.RunAsync();
        output.WriteLine(report.ToString());
        Assert.True(report.Passed, report.ToString());
    }
}
