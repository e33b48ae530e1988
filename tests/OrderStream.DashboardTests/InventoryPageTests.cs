using System.Net;
using System.Text.Json;
using OrderStream.Dashboard.Components.Pages;

namespace OrderStream.DashboardTests;

/// <summary>The Inventory page's catalogue: listed for whoever opens the page, its prices changed by a seller only.</summary>
public sealed class InventoryPageTests : DashboardTestContext
{
    private const string Products = """
        [{"sku":"SKU-001","name":"Demo product 1","unitPrice":4.99,"currency":"EUR","updatedAt":"2026-12-03T10:00:00Z"}]
        """;

    private IRenderedComponent<Inventory> RenderPage()
    {
        Gateway.On(HttpMethod.Get, "/inventory", HttpStatusCode.OK, """[{"sku":"SKU-001","available":5,"reserved":0,"sold":0,"received":5}]""")
               .On(HttpMethod.Get, "/products", HttpStatusCode.OK, Products);
        return Ctx.Render<Inventory>();
    }

    [Fact]
    public void A_seller_sees_the_catalogue_and_sets_a_price_from_the_entry_it_fills_in()
    {
        SignIn("sam", "token-of-sam", "seller");
        Gateway.On(HttpMethod.Put, "/products/SKU-001", HttpStatusCode.OK,
            """{"sku":"SKU-001","name":"Demo product 1","unitPrice":5.49,"currency":"EUR","updatedAt":"2026-12-03T11:00:00Z"}""");
        var cut = RenderPage();

        cut.WaitForAssertion(() => Assert.Equal("4.99", cut.Find("[data-testid=product-row][data-sku=SKU-001] [data-testid=product-price]").TextContent));
        Assert.Equal("Demo product 1", cut.Find("[data-testid=product-name]").TextContent);
        Assert.Equal("EUR", cut.Find("[data-testid=product-currency]").TextContent);
        Assert.Equal("Demo product 1", cut.Find("[data-testid=price-name]").GetAttribute("value"));

        cut.Find("[data-testid=price-unit]").Change("5.49");
        cut.Find("[data-testid=price-submit]").Click();

        cut.WaitForAssertion(() => Assert.Contains("SKU-001: 5.49 EUR", cut.Find("[data-testid=price-result]").TextContent));
        var put = Gateway.Requests.Single(r => r.Method == HttpMethod.Put);
        Assert.Equal("/products/SKU-001", put.Path);
        var body = JsonDocument.Parse(put.Body!).RootElement;
        Assert.Equal("Demo product 1", body.GetProperty("name").GetString());
        Assert.Equal(5.49m, body.GetProperty("unitPrice").GetDecimal());
        Assert.Equal("EUR", body.GetProperty("currency").GetString());
    }

    [Fact]
    public void The_gateways_problem_answer_to_a_price_is_shown_under_the_form()
    {
        SignIn("sam", "token-of-sam", "seller");
        Gateway.On(HttpMethod.Put, "/products/", HttpStatusCode.BadRequest,
            """{"title":"The product is invalid","status":400,"errors":{"unitPrice":["must be a number above 0 and at most 1000000 with at most 2 decimals"]}}""");
        var cut = RenderPage();
        cut.WaitForElement("[data-testid=product-row]");

        cut.Find("[data-testid=price-unit]").Change("0");
        cut.Find("[data-testid=price-submit]").Click();

        cut.WaitForAssertion(() => Assert.Contains("400 The product is invalid: unitPrice must be a number above 0",
            cut.Find("[data-testid=price-result]").TextContent));
    }

    [Fact]
    public void An_admin_reads_the_catalogue_without_the_price_form()
    {
        SignIn("ada", "token-of-ada", "admin");
        var cut = RenderPage();

        cut.WaitForElement("[data-testid=product-row]");
        Assert.Empty(cut.FindAll("[data-testid=price-form], [data-testid=price-submit]"));
        Assert.NotEmpty(cut.FindAll("[data-testid=stock-read-only]"));
    }
}
