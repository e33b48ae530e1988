using System.Net;
using System.Text.Json;
using OrderStream.Dashboard.Components.Shared;
using OrderStream.Dashboard.Gateway;

namespace OrderStream.DashboardTests;

public sealed class OrderFormTests : DashboardTestContext
{
    private const string Accepted = """{"orderId":"0196a0e1-0000-7000-8000-000000000001","status":"PENDING"}""";

    private const string Catalogue = """
        [{"sku":"SKU-001","name":"Demo product 1","unitPrice":4.99,"currency":"EUR","updatedAt":"2026-12-03T10:00:00Z"},
         {"sku":"SKU-007","name":"Demo product 7","unitPrice":34.99,"currency":"EUR","updatedAt":"2026-12-03T10:00:00Z"},
         {"sku":"SKU-USD","name":"Imported","unitPrice":3.50,"currency":"USD","updatedAt":"2026-12-03T10:00:00Z"}]
        """;

    private IRenderedComponent<OrderForm> RenderForm()
    {
        Gateway.On(HttpMethod.Post, "/orders", HttpStatusCode.Accepted, Accepted)
               .On(HttpMethod.Get, "/products", HttpStatusCode.OK, Catalogue);
        return Ctx.Render<OrderForm>();
    }

    private JsonElement PostedOrder() =>
        JsonDocument.Parse(Gateway.Requests.Single(r => r.Method == HttpMethod.Post && r.Path == "/orders").Body!).RootElement;

    [Fact]
    public void A_valid_order_is_posted_and_links_to_its_page()
    {
        var cut = RenderForm(); // signed in as the customer bob
        cut.Find("[data-testid=order-sku-0]").Change("SKU-007");
        cut.Find("[data-testid=order-qty-0]").Change("3");
        cut.Find("[data-testid=order-submit]").Click();

        var placed = cut.WaitForElement("[data-testid=order-placed]");
        Assert.Equal("0196a0e1-0000-7000-8000-000000000001", placed.GetAttribute("data-order-id"));
        var order = PostedOrder();
        Assert.Equal("bob", order.GetProperty("userId").GetString());
        Assert.Equal("SKU-007", order.GetProperty("items")[0].GetProperty("sku").GetString());
        Assert.Equal(3, order.GetProperty("items")[0].GetProperty("qty").GetInt32());
        // No price: inventory prices the order from its catalogue (a price sent would be ignored).
        Assert.False(order.GetProperty("items")[0].TryGetProperty("price", out _));
        Assert.Equal("EUR", order.GetProperty("currency").GetString());
    }

    [Fact]
    public void The_form_has_no_price_field_and_shows_the_catalogue_price_name_and_estimated_total()
    {
        var cut = RenderForm();
        Assert.Empty(cut.FindAll("[data-testid^=order-price]"));
        cut.WaitForAssertion(() => Assert.Equal("4.99 EUR", cut.Find("[data-testid=order-unit-price-0]").TextContent));
        Assert.Equal("Demo product 1", cut.Find("[data-testid=order-product-name-0]").TextContent);

        cut.Find("[data-testid=order-sku-0]").Change("SKU-007");
        cut.Find("[data-testid=order-qty-0]").Change("3");
        cut.WaitForAssertion(() => Assert.Equal("34.99 EUR", cut.Find("[data-testid=order-unit-price-0]").TextContent));
        Assert.Equal("Demo product 7", cut.Find("[data-testid=order-product-name-0]").TextContent);
        var estimate = cut.Find("[data-testid=order-estimate]");
        Assert.Equal("104.97", estimate.GetAttribute("data-amount"));
        Assert.Equal("104.97 EUR", cut.Find("[data-testid=order-estimate-amount]").TextContent);
        Assert.Contains("catalogue price", estimate.TextContent);
    }

    [Fact]
    public void A_SKU_not_in_the_catalogue_is_named_in_the_form_and_no_total_is_estimated()
    {
        var cut = RenderForm();
        cut.Find("[data-testid=order-sku-0]").Change("SKU-NOPE");

        cut.WaitForAssertion(() => Assert.Contains("SKU-NOPE is not in the catalogue", cut.Find("[data-testid=order-unknown-sku-0]").TextContent));
        Assert.Equal("false", cut.Find("[data-testid=order-catalogue-0]").GetAttribute("data-known"));
        Assert.Empty(cut.FindAll("[data-testid=order-unit-price-0]"));
        Assert.Empty(cut.FindAll("[data-testid=order-estimate]"));
    }

    [Fact]
    public void The_order_is_in_the_currency_its_lines_are_priced_in_and_lines_in_two_currencies_are_refused()
    {
        var catalogue = new Dictionary<string, Product>
        {
            ["SKU-001"] = new("SKU-001", "One", 4.99m, "EUR", null),
            ["SKU-USD"] = new("SKU-USD", "Imported", 3.50m, "USD", null),
        };
        var draft = new OrderDraft { UserId = "bob" };
        draft.Lines[0].Sku = "SKU-USD";
        Assert.Equal("USD", draft.Build(catalogue).Request!.Currency);
        Assert.Equal((3.50m, "USD"), draft.Estimate(catalogue));

        draft.Lines.Add(new DraftLine { Sku = "SKU-001", Qty = 2 });
        var (request, errors) = draft.Build(catalogue);
        Assert.Null(request);
        Assert.Equal(["The lines are priced in different currencies (USD, EUR): one order has one currency"], errors);
        Assert.Null(draft.Estimate(catalogue));
    }

    [Fact]
    public void The_order_is_placed_as_the_signed_in_customer_with_their_token_and_no_user_can_be_chosen()
    {
        SignIn("carol", "token-of-carol", "customer");
        var cut = RenderForm();
        Assert.Equal("carol", cut.Find("[data-testid=order-user]").GetAttribute("data-user"));
        Assert.Empty(cut.FindAll("input[data-testid=order-user], [data-testid=order-decline]"));
        cut.Find("[data-testid=order-submit]").Click();

        cut.WaitForElement("[data-testid=order-placed]");
        Assert.Equal("carol", PostedOrder().GetProperty("userId").GetString());
        // The gateway is called with the person's own token, nothing of the dashboard's (the catalogue reads too).
        Assert.NotEmpty(Gateway.Authorizations);
        Assert.All(Gateway.Authorizations, a => Assert.Equal("Bearer token-of-carol", a));
    }

    [Fact]
    public void Invalid_lines_are_refused_in_the_form_and_nothing_is_posted()
    {
        SignIn("   ", "token", "customer"); // a token whose subject is blank
        var cut = RenderForm();
        cut.Find("[data-testid=order-add-line]").Click();
        cut.Find("[data-testid=order-sku-1]").Change("");
        cut.Find("[data-testid=order-submit]").Click();

        var error = cut.Find("[data-testid=order-error]").TextContent;
        Assert.Contains("User", error);
        Assert.Contains("Line 2: a SKU", error);
        Assert.DoesNotContain(Gateway.Requests, r => r.Method == HttpMethod.Post);
        Assert.Empty(cut.FindAll("[data-testid=order-placed]"));
    }

    [Fact]
    public void The_gateways_problem_answer_is_shown()
    {
        Gateway.On(HttpMethod.Post, "/orders", HttpStatusCode.ServiceUnavailable, """{"title":"The API is read-only for now","status":503}""");
        var cut = Ctx.Render<OrderForm>();
        cut.Find("[data-testid=order-submit]").Click();

        cut.WaitForAssertion(() => Assert.Contains("503 The API is read-only for now", cut.Find("[data-testid=order-error]").TextContent));
    }

    [Fact]
    public void Quantities_outside_the_gateways_limits_are_refused()
    {
        var draft = new OrderDraft { UserId = "bob" };
        draft.Lines.Add(new DraftLine { Sku = "SKU-002", Qty = 0 });
        draft.Lines.Add(new DraftLine { Sku = "SKU-003", Qty = OrderDraft.MaxQty + 1 });

        var (request, errors) = draft.Build();

        Assert.Null(request);
        Assert.Equal(["Line 2: quantity from 1 to 10000", "Line 3: quantity from 1 to 10000"], errors);
    }
}
