using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

/// <summary>Prices come from inventory's catalogue: what a client writes in an order is never charged or shown, and only the protected role edits prices.</summary>
public sealed class PriceTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    private sealed record Product(string Sku, string Name, decimal UnitPrice, string Currency, DateTimeOffset UpdatedAt);

    private HttpClient Anonymous() => new() { BaseAddress = stack.Gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    private Task<decimal> ChargedAsync(Guid orderId) =>
        stack.QueryOneAsync<decimal>("payment", "SELECT amount FROM payments WHERE order_id = @orderId AND status = 'AUTHORIZED'", new { orderId });

    [Fact]
    public async Task A_client_that_sends_0_01_for_a_999_item_is_charged_and_shown_the_catalogue_price()
    {
        await stack.SeedAsync("PR-999", 10, price: 999.00m);
        await stack.SeedAsync("PR-CHEAP", 10, price: 1.25m);

        var id = await stack.PlaceAsync(new
        {
            userId = "mallory",
            currency = "EUR",
            items = new[] { new { sku = "PR-999", qty = 1, price = 0.01m }, new { sku = "PR-CHEAP", qty = 2, price = 0.01m } },
            amount = 0.03m,
        });
        var view = await stack.WaitSettledAsync(id);

        Assert.Equal((OrderStatus.Confirmed, 1001.50m, "EUR"), (view.Status, view.Amount, view.Currency));
        Assert.Equal([new OrderLine("PR-999", 1, 999.00m), new OrderLine("PR-CHEAP", 2, 1.25m)], view.Items!);
        Assert.Contains(view.Timeline, t => t.Type == Topics.InventoryReserved);
        Assert.Equal(1001.50m, await ChargedAsync(id));
        var authorized = stack.Kafka.ReadAll(Topics.PaymentAuthorized).Single(m => Encoding.UTF8.GetString(m.Message.Key!) == id.ToString());
        Assert.Equal(1001.50m, JsonSerializer.Deserialize<Envelope>(authorized.Message.Value, EventJson.Options)!.Payload.Deserialize<PaymentAuthorizedV1>(EventJson.Options)!.Amount);
        // Nothing the client wrote reached the money: no event of the order carries a charge of its 0.03.
        Assert.DoesNotContain(stack.Kafka.ReadAll(Topics.InventoryReserved), m => Encoding.UTF8.GetString(m.Message.Key!) == id.ToString()
            && JsonSerializer.Deserialize<Envelope>(m.Message.Value, EventJson.Options)!.Payload.Deserialize<InventoryReservedV2>(EventJson.Options)!.Amount != 1001.50m);

        // The books balance: the payment equals the priced amount the view shows (payment.amounts), stock and all.
        var books = await new OrderStream.Checker.OrderStreamChecker(stack.CheckOptions).RunWhenQuietAsync(TimeSpan.FromSeconds(60));
        Assert.True(books.Passed, books.ToString());
    }

    [Fact]
    public async Task An_order_without_prices_is_accepted_and_priced_from_the_catalogue()
    {
        await stack.SeedAsync("PR-NOPRICE", 10, price: 4.20m);
        var id = await stack.PlaceAsync(new { userId = "newclient", currency = "EUR", items = new[] { new { sku = "PR-NOPRICE", qty = 3 } } });
        var view = await stack.WaitSettledAsync(id);
        Assert.Equal((OrderStatus.Confirmed, 12.60m), (view.Status, view.Amount));
        Assert.Equal([new OrderLine("PR-NOPRICE", 3, 4.20m)], view.Items!);
        Assert.Equal(12.60m, await ChargedAsync(id));
    }

    [Fact]
    public async Task A_sku_in_stock_but_not_in_the_catalogue_or_priced_in_another_currency_fails_as_unknown()
    {
        using (var inventory = Seller(stack.Inventory.BaseAddress))
            (await inventory.PostAsJsonAsync("/inventory/PR-UNLISTED/restock", new { quantity = 10 })).EnsureSuccessStatusCode();
        await stack.SeedAsync("PR-USD", 10);
        using (var inventory = Seller(stack.Inventory.BaseAddress))
            await OrderStreamStack.PriceAsync(inventory, "PR-USD", 3.00m, "USD");

        var unlisted = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("u", ("PR-UNLISTED", 1, 5m))));
        var otherCurrency = await stack.WaitSettledAsync(await stack.PlaceAsync(Orders.Body("u", ("PR-USD", 1, 3m))));
        Assert.Equal((OrderStatus.Failed, FailureReasons.UnknownSku), (unlisted.Status, unlisted.Reason));
        Assert.Equal((OrderStatus.Failed, FailureReasons.UnknownSku), (otherCurrency.Status, otherCurrency.Reason));
        Assert.Equal(10, (await stack.Http.GetFromJsonAsync<Orders.Stock>("/inventory/PR-UNLISTED"))!.Available);
    }

    [Fact]
    public async Task Anyone_reads_the_catalogue_without_a_credential()
    {
        await stack.SeedAsync("PR-READ", 1, price: 12.34m);
        using var http = Anonymous();

        var all = await http.GetFromJsonAsync<List<Product>>("/products", EventJson.Options);
        var listed = Assert.Single(all!, p => p.Sku == "PR-READ");
        Assert.Equal(("Product PR-READ", 12.34m, "EUR"), (listed.Name, listed.UnitPrice, listed.Currency));

        var one = await http.GetFromJsonAsync<Product>("/products/PR-READ", EventJson.Options);
        Assert.Equal(listed, one);
        await AssertProblemAsync(await http.GetAsync("/products/PR-NO-SUCH"), HttpStatusCode.NotFound, "unknown SKU");
    }

    [Fact]
    public async Task Only_a_seller_edits_a_price_and_the_next_order_is_charged_the_new_one()
    {
        await stack.SeedAsync("PR-EDIT", 10, price: 5.00m);
        var change = new { name = "Edited product", unitPrice = 7.50m, currency = "eur" };
        using var http = Anonymous();

        var missing = await http.PutAsJsonAsync("/products/PR-EDIT", change);
        await AssertProblemAsync(missing, HttpStatusCode.Unauthorized, "no credential");
        Assert.Contains(missing.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
        await AssertProblemAsync(await SendAsync(http, HttpMethod.Put, "/products/PR-EDIT", change, ("Authorization", "Bearer not-a-token")),
            HttpStatusCode.Unauthorized, "not a token");
        // Prices are the seller's: a customer and an admin are both refused.
        await AssertProblemAsync(await SendAsync(http, HttpMethod.Put, "/products/PR-EDIT", change, ("Authorization", "Bearer " + TestIdentity.Customer("pr-customer"))),
            HttpStatusCode.Forbidden, "customer");
        await AssertProblemAsync(await SendAsync(http, HttpMethod.Put, "/products/PR-EDIT", change, ("Authorization", "Bearer " + TestIdentity.Admin())),
            HttpStatusCode.Forbidden, "admin");
        // Inventory checks the credential itself too, for a caller that goes around the gateway.
        using (var direct = new HttpClient { BaseAddress = stack.Inventory.BaseAddress })
            await AssertProblemAsync(await direct.PutAsJsonAsync("/products/PR-EDIT", change), HttpStatusCode.Unauthorized, "inventory, no credential");
        Assert.Equal(5.00m, (await http.GetFromJsonAsync<Product>("/products/PR-EDIT", EventJson.Options))!.UnitPrice);

        using var seller = Seller(stack.Gateway.BaseAddress);
        var edited = await seller.PutAsJsonAsync("/products/PR-EDIT", change);
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        var product = (await edited.Content.ReadFromJsonAsync<Product>(EventJson.Options))!;
        Assert.Equal(("PR-EDIT", "Edited product", 7.50m, "EUR"), (product.Sku, product.Name, product.UnitPrice, product.Currency));
        Assert.Equal(product, await http.GetFromJsonAsync<Product>("/products/PR-EDIT", EventJson.Options));

        var id = await stack.PlaceAsync(Orders.Body("u", ("PR-EDIT", 2, 5.00m)));
        Assert.Equal(15.00m, (await stack.WaitSettledAsync(id)).Amount);
        Assert.Equal(15.00m, await ChargedAsync(id));
    }

    public static TheoryData<string, string> InvalidProducts => new()
    {
        { """{"name":"P","unitPrice":0,"currency":"EUR"}""", "unitPrice" },
        { """{"name":"P","unitPrice":-1,"currency":"EUR"}""", "unitPrice" },
        { """{"name":"P","unitPrice":1.005,"currency":"EUR"}""", "unitPrice" },
        { """{"name":"P","unitPrice":1000000.01,"currency":"EUR"}""", "unitPrice" },
        { """{"name":"P","currency":"EUR"}""", "unitPrice" },
        { """{"name":"P","unitPrice":1,"currency":"EU"}""", "currency" },
        { """{"name":"P","unitPrice":1,"currency":"E1R"}""", "currency" },
        { """{"name":"P","unitPrice":1,"currency":"EURO"}""", "currency" },
        { """{"name":"P","unitPrice":1}""", "currency" },
        { """{"name":"","unitPrice":1,"currency":"EUR"}""", "name" },
        { """{"name":"   ","unitPrice":1,"currency":"EUR"}""", "name" },
        { $$"""{"name":"{{new string('n', 201)}}","unitPrice":1,"currency":"EUR"}""", "name" },
        { """{"unitPrice":1,"currency":"EUR"}""", "name" },
        { """{"name":"P\u0000Q","unitPrice":1,"currency":"EUR"}""", "name" },
        { """{"name":"P\ud800","unitPrice":1,"currency":"EUR"}""", "" }, // a lone surrogate: refused by the JSON reader or the check
        { """{"name":"P","unitPrice":"a lot","currency":"EUR"}""", "" },
        { """{"name":"P","unitPrice":1,"currency":"EUR" """, "" },
        { """[]""", "" },
    };

    [Theory]
    [MemberData(nameof(InvalidProducts))]
    public async Task An_invalid_product_is_refused_with_400_problem_details_and_changes_nothing(string body, string field)
    {
        await stack.SeedAsync("PR-BAD", 1, price: 3.00m);
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var seller = Seller(stack.Gateway.BaseAddress);
        var response = await seller.PutAsync("/products/PR-BAD", content);
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, body);
        if (field.Length > 0) Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Equal(3.00m, (await stack.Http.GetFromJsonAsync<Product>("/products/PR-BAD", EventJson.Options))!.UnitPrice);
    }

    [Theory]
    [InlineData("SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS")] // 65 characters
    [InlineData("CTRL%01SKU")]
    public async Task A_sku_that_cannot_be_stored_is_refused_and_reads_as_unknown(string sku)
    {
        using var seller = Seller(stack.Gateway.BaseAddress);
        var response = await seller.PutAsJsonAsync($"/products/{sku}", new { name = "P", unitPrice = 1m, currency = "EUR" });
        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest, sku);
        Assert.True(problem.GetProperty("errors").TryGetProperty("sku", out _));
        await AssertProblemAsync(await stack.Http.GetAsync($"/products/{sku}"), HttpStatusCode.NotFound, sku);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, object body, (string Name, string Value) header)
    {
        using var request = new HttpRequestMessage(method, path) { Content = JsonContent.Create(body) };
        request.Headers.TryAddWithoutValidation(header.Name, header.Value);
        return await http.SendAsync(request);
    }

    private static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected, string what)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{what}: expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        return problem;
    }

    private static HttpClient Seller(Uri baseAddress) => new HttpClient { BaseAddress = baseAddress }.WithToken(TestIdentity.Seller());
}
