using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OrderStream.Dashboard.Components.Shared;
using OrderStream.Dashboard.Gateway;

namespace OrderStream.DashboardTests;

public sealed class VendorsCardTests : DashboardTestContext
{
    private static readonly DateTimeOffset Now = new(2026, 12, 3, 18, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Each_vendor_shows_its_state_how_stale_its_stock_is_its_failures_and_its_shortfall()
    {
        IReadOnlyList<VendorStatus> vendors =
        [
            new("vendor-a", "http://vendor-a:8080", "healthy", Now.AddSeconds(-4), Now.AddSeconds(-4), null, 0, 3, 3, 0, []),
            new("vendor-b", "http://vendor-b:8080", "circuit-open", Now.AddMinutes(-3), Now.AddSeconds(-1), "not called: its circuit is open after repeated failures", 7, 3, 2, 5, []),
        ];

        var cut = Ctx.Render<VendorsCard>(p => p.Add(c => c.Vendors, vendors).Add(c => c.Now, Now));

        var rows = cut.FindAll("[data-testid=vendor-row]");
        Assert.Equal(["vendor-a", "vendor-b"], rows.Select(r => r.GetAttribute("data-vendor")!));
        Assert.Equal(["healthy", "circuit-open"], rows.Select(r => r.GetAttribute("data-state")!));
        var b = rows[1];
        Assert.Equal("circuit open", b.QuerySelector("[data-testid=vendor-state]")!.TextContent);
        Assert.Contains("bad", b.QuerySelector("[data-testid=vendor-state]")!.ClassList);
        Assert.Equal("3 min ago", b.QuerySelector("[data-testid=vendor-last-sync]")!.TextContent);
        Assert.Equal("7", b.QuerySelector("[data-testid=vendor-failures]")!.TextContent);
        Assert.Equal("2 / 3", b.QuerySelector("[data-testid=vendor-skus]")!.TextContent.Trim());
        Assert.Equal("5", b.QuerySelector("[data-testid=vendor-shortfall]")!.TextContent);
        Assert.Contains("circuit is open", b.QuerySelector("[data-testid=vendor-error]")!.TextContent);
        Assert.Equal("4 s ago", rows[0].QuerySelector("[data-testid=vendor-last-sync]")!.TextContent);
        Assert.Null(rows[0].QuerySelector("[data-testid=vendor-error]"));
    }

    [Fact]
    public void No_vendor_and_no_answer_are_told_apart()
    {
        var none = Ctx.Render<VendorsCard>(p => p.Add(c => c.Vendors, []));
        Assert.NotNull(none.Find("[data-testid=vendors-empty]"));
        Assert.Empty(none.FindAll("[data-testid=vendor-row]"));

        var unknown = Ctx.Render<VendorsCard>(p => p.Add(c => c.Vendors, null));
        Assert.NotNull(unknown.Find("[data-testid=vendors-unknown]"));
    }

    [Theory]
    [InlineData(0.4, "just now")]
    [InlineData(59, "59 s ago")]
    [InlineData(600, "10 min ago")]
    [InlineData(90_000, "25 h ago")]
    public void An_age_reads_as_an_operator_says_it(double seconds, string text) =>
        Assert.Equal(text, VendorsCard.Ago(TimeSpan.FromSeconds(seconds)));

    [Fact]
    public async Task The_vendors_come_from_inventorys_admin_endpoint_through_the_gateway_with_the_persons_token()
    {
        SignIn("ada", "token-of-ada", "admin");
        Gateway.On(HttpMethod.Get, "/admin/inventory/vendors", HttpStatusCode.OK,
            """[{"name":"vendor-a","baseUrl":"http://vendor-a:8080","state":"failing","lastSuccessAt":null,"lastAttemptAt":"2026-12-03T18:00:00Z","lastError":"answered 503 ServiceUnavailable","consecutiveFailures":2,"skus":3,"skusSynced":0,"shortfall":0,"items":[]}]""");

        var vendors = await Ctx.Services.GetRequiredService<GatewayClient>().GetVendorsAsync();

        var vendor = Assert.Single(vendors!);
        Assert.Equal(("vendor-a", "failing", 2), (vendor.Name, vendor.State, vendor.ConsecutiveFailures));
        Assert.Equal("Bearer token-of-ada", Assert.Single(Gateway.Authorizations));
    }
}
