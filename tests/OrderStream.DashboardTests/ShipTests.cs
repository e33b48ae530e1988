using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrderStream.Dashboard.Components.Pages;
using OrderStream.Dashboard.Components.Shared;
using OrderStream.Dashboard.Hosting;

namespace OrderStream.DashboardTests;

/// <summary>Fulfilment in the dashboard: a seller ships a confirmed order from its page; operators see what was not shipped in time.</summary>
public sealed class ShipTests : DashboardTestContext
{
    private static readonly Guid Id = Guid.Parse("0193a1b2-0000-7000-8000-000000000042");

    private static string Order(string status) => $$"""
        {"orderId":"{{Id}}","status":"{{status}}","reason":null,"userId":"alice","items":[{"sku":"SKU-001","qty":2,"price":2.5}],
         "amount":5.0,"currency":"EUR","createdAt":"2026-12-03T10:00:00Z","updatedAt":"2026-12-03T10:00:01Z","settledAt":"2026-12-03T10:00:01Z",
         "timeline":[{"type":"order.created.v1","eventId":"0193a1b2-0000-7000-8000-000000000001","occurredAt":"2026-12-03T10:00:00Z"},
                     {"type":"shipment.dispatched.v1","eventId":"0193a1b2-0000-7000-8000-000000000002","occurredAt":"2026-12-03T10:05:00Z"}]}
        """;

    public ShipTests() => Ctx.Services.AddSingleton(Options.Create(new TraceOptions()));

    private IRenderedComponent<OrderDetails> RenderOrder(string status)
    {
        Gateway.On(HttpMethod.Get, $"/orders/{Id}", HttpStatusCode.OK, Order(status));
        return Ctx.Render<OrderDetails>(p => p.Add(c => c.Id, Id));
    }

    [Fact]
    public void A_seller_ships_a_confirmed_order_after_confirming_and_sees_the_answer()
    {
        SignIn("sam", "token-of-sam", "seller");
        Gateway.On(HttpMethod.Post, $"/orders/{Id}/ship", HttpStatusCode.Accepted,
            $$"""{"orderId":"{{Id}}","requestedBy":"sam","shipRequestedAt":"2026-12-03T10:04:00Z"}""");
        var cut = RenderOrder("CONFIRMED");

        cut.WaitForElement("[data-testid=order-ship]").Click();
        Assert.DoesNotContain(Gateway.Requests, r => r.Method == HttpMethod.Post);
        cut.Find("[data-testid=order-ship-confirm]").Click();

        cut.WaitForAssertion(() => Assert.Contains("Ship requested", cut.Find("[data-testid=order-ship-result]").TextContent));
        var post = Gateway.Requests.Single(r => r.Method == HttpMethod.Post);
        Assert.Equal($"/orders/{Id}/ship", post.Path);
        Assert.Equal("Bearer token-of-sam", Gateway.Authorizations[Gateway.Requests.IndexOf(post)]);
        // The seller cannot cancel someone else's order: no cancel button.
        Assert.Empty(cut.FindAll("[data-testid=order-cancel]"));
    }

    [Fact]
    public void The_gateways_409_is_shown_under_the_button()
    {
        SignIn("sam", "token-of-sam", "seller");
        Gateway.On(HttpMethod.Post, $"/orders/{Id}/ship", HttpStatusCode.Conflict,
            """{"title":"The order was cancelled","status":409,"detail":"a cancel was requested before any ship request"}""");
        var cut = RenderOrder("CONFIRMED");

        cut.WaitForElement("[data-testid=order-ship]").Click();
        cut.Find("[data-testid=order-ship-confirm]").Click();

        cut.WaitForAssertion(() => Assert.Contains("409 The order was cancelled", cut.Find("[data-testid=order-ship-result]").TextContent));
    }

    [Theory]
    [InlineData("seller", "PENDING")]
    [InlineData("seller", "SHIPPED")]
    [InlineData("seller", "CANCELLED")]
    [InlineData("customer", "CONFIRMED")]
    [InlineData("admin", "CONFIRMED")]
    public void Only_a_seller_sees_Ship_and_only_on_a_confirmed_order(string role, string status)
    {
        SignIn("alice", "token-of-alice", role);
        var cut = RenderOrder(status);
        cut.WaitForAssertion(() => Assert.Equal(status, cut.Find("[data-testid=order-status]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=order-ship]"));
    }

    [Fact]
    public void A_shipped_order_shows_its_status_and_the_dispatch_as_fulfilments_in_the_timeline()
    {
        SignIn("sam", "token-of-sam", "seller");
        var cut = RenderOrder("SHIPPED");
        cut.WaitForAssertion(() => Assert.Contains("shipped", cut.Find("[data-testid=order-status]").ClassName));
        Assert.Equal("fulfilment", SagaEvents.Producer("shipment.dispatched.v1"));
        Assert.Contains(cut.FindAll("[data-testid=timeline-entry]"), e => e.ClassList.Contains("svc-fulfilment"));
    }

    [Fact]
    public void The_operations_page_lists_confirmed_orders_not_shipped_in_time()
    {
        SignIn("ada", "token-of-ada", "admin");
        Gateway.On(HttpMethod.Get, "/admin/system", HttpStatusCode.OK, """
            {"at":"2026-12-03T10:00:00Z","services":[],"orders":{"pending":0,"stuck":0,"stuckAfterSeconds":30,"unshipped":1,"shipWithinSeconds":86400},"deadLetters":[]}
            """)
            .On(HttpMethod.Get, "/orders/unshipped", HttpStatusCode.OK, $$"""
            {"olderThanSeconds":86400,"count":1,"orders":[{"orderId":"{{Id}}","userId":"alice","confirmedAt":"2026-12-02T09:00:00Z","ageSeconds":90000,"shipRequested":false}]}
            """)
            .On(HttpMethod.Get, "/orders/stuck", HttpStatusCode.OK, """{"olderThanSeconds":30,"count":0,"orders":[]}""")
            .On(HttpMethod.Get, "/admin/gateway/read-only", HttpStatusCode.OK, """{"enabled":false,"retryAfterSeconds":30}""");
        var cut = Ctx.Render<Operations>();

        cut.WaitForAssertion(() => Assert.Equal("1", cut.Find("[data-testid=orders-unshipped]").TextContent));
        Assert.Contains("24 h", cut.Markup);
        var row = cut.Find("[data-testid=unshipped-row]");
        Assert.Equal(Id.ToString(), row.GetAttribute("data-order-id"));
        Assert.Equal("no", row.QuerySelector("td[data-label='Ship requested']")!.TextContent);
    }
}
