using System.Net;
using System.Text.Json;
using OrderStream.Dashboard.Components.Shared;

namespace OrderStream.DashboardTests;

public sealed class OrderFormTests : DashboardTestContext
{
    private const string Accepted = """{"orderId":"0196a0e1-0000-7000-8000-000000000001","status":"PENDING"}""";

    private IRenderedComponent<OrderForm> RenderForm()
    {
        Gateway.On(HttpMethod.Post, "/orders", HttpStatusCode.Accepted, Accepted);
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
        // The gateway is called with the person's own token, nothing of the dashboard's.
        Assert.Equal(["Bearer token-of-carol"], Gateway.Authorizations);
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
    public void Quantities_and_prices_outside_the_gateways_limits_are_refused()
    {
        var draft = new OrderDraft { UserId = "bob" };
        draft.Lines.Add(new DraftLine { Sku = "SKU-002", Qty = 0, Price = 1.234m });
        draft.Lines.Add(new DraftLine { Sku = "SKU-003", Qty = OrderDraft.MaxQty + 1 });

        var (request, errors) = draft.Build();

        Assert.Null(request);
        Assert.Equal(["Line 2: quantity from 1 to 10000", "Line 2: a price above 0 with at most 2 decimals", "Line 3: quantity from 1 to 10000"], errors);
    }
}
