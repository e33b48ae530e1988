using System.Text.Json;
using OrderStream.ApiGateway.Validation;
using OrderStream.Contracts;

namespace OrderStream.UnitTests;

public class OrderRequestTests
{
    private static (ValidOrder? Order, Dictionary<string, string[]> Errors) Validate(string json) =>
        OrderRequest.Validate(JsonDocument.Parse(json).RootElement);

    [Fact]
    public void Accepts_a_valid_order_and_computes_its_amount()
    {
        var (order, errors) = Validate("""{"userId":"u1","currency":"eur","items":[{"sku":"A","qty":2,"price":9.99},{"sku":"B","qty":1,"price":0.01}],"amount":19.99}""");
        Assert.Empty(errors);
        Assert.NotNull(order);
        Assert.Equal(("u1", "EUR", 19.99m), (order.UserId, order.Currency, order.Amount));
        Assert.Equal([new OrderLine("A", 2, 9.99m), new OrderLine("B", 1, 0.01m)], order.Items);
    }

    [Fact]
    public void A_body_without_userId_takes_the_default_user_and_one_with_it_keeps_its_own()
    {
        var (implicitUser, _) = OrderRequest.Validate(JsonDocument.Parse("""{"currency":"EUR","items":[{"sku":"A","qty":1,"price":1}]}""").RootElement, defaultUserId: "sub-1");
        Assert.Equal("sub-1", implicitUser?.UserId);
        // The caller compares the two (a differing one is a 403 at the gateway); validation keeps what the body says.
        var (named, _) = OrderRequest.Validate(JsonDocument.Parse("""{"userId":"other","currency":"EUR","items":[{"sku":"A","qty":1,"price":1}]}""").RootElement, defaultUserId: "sub-1");
        Assert.Equal("other", named?.UserId);
        // An empty or non-string userId is still a 400, default or not.
        var (empty, errors) = OrderRequest.Validate(JsonDocument.Parse("""{"userId":"","currency":"EUR","items":[{"sku":"A","qty":1,"price":1}]}""").RootElement, defaultUserId: "sub-1");
        Assert.Null(empty);
        Assert.Contains("userId", errors.Keys);
    }

    [Theory]
    [InlineData("""{"currency":"EUR","items":[{"sku":"A","qty":1,"price":1}]}""", "userId")]
    [InlineData("""{"userId":"","currency":"EUR","items":[{"sku":"A","qty":1,"price":1}]}""", "userId")]
    [InlineData("""{"userId":"   ","currency":"EUR","items":[{"sku":"A","qty":1,"price":1}]}""", "userId")]
    [InlineData("""{"userId":42,"currency":"EUR","items":[{"sku":"A","qty":1,"price":1}]}""", "userId")]
    [InlineData("""{"userId":"u","currency":"EU","items":[{"sku":"A","qty":1,"price":1}]}""", "currency")]
    [InlineData("""{"userId":"u","currency":"E1R","items":[{"sku":"A","qty":1,"price":1}]}""", "currency")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[]}""", "items")]
    [InlineData("""{"userId":"u","currency":"EUR","items":{}}""", "items")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[{"qty":1,"price":1}]}""", "items[0].sku")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":0,"price":1}]}""", "items[0].qty")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":10001,"price":1}]}""", "items[0].qty")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":1.5,"price":1}]}""", "items[0].qty")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":"1","price":1}]}""", "items[0].qty")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":1,"price":0}]}""", "items[0].price")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":1,"price":1.001}]}""", "items[0].price")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":1,"price":1}, 7]}""", "items[1]")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":2,"price":1}],"amount":3}""", "amount")]
    [InlineData("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":2,"price":1}],"amount":"2"}""", "amount")]
    [InlineData("""[1,2]""", "body")]
    public void Names_the_bad_field(string json, string field)
    {
        var (order, errors) = Validate(json);
        Assert.Null(order);
        Assert.Contains(field, errors.Keys);
    }

    [Fact]
    public void Enforces_the_length_limits()
    {
        var longSku = new string('s', 65);
        var (_, errors) = Validate($$"""{"userId":"{{new string('u', 65)}}","currency":"EUR","items":[{"sku":"{{longSku}}","qty":1,"price":1}]}""");
        Assert.Equal(["items[0].sku", "userId"], errors.Keys.Order());
        var items = string.Join(',', Enumerable.Repeat("""{"sku":"A","qty":1,"price":1}""", OrderRequest.MaxItems));
        Assert.Empty(Validate($$"""{"userId":"u","currency":"EUR","items":[{{items}}]}""").Errors);
        Assert.Contains("items", Validate($$"""{"userId":"u","currency":"EUR","items":[{{items}},{"sku":"A","qty":1,"price":1}]}""").Errors.Keys);
    }

    [Fact]
    public void The_same_order_has_the_same_hash_however_it_is_spelled()
    {
        var a = Validate("""{"userId":"u","currency":"eur","items":[{"sku":"A","qty":1,"price":1.50}]}""").Order!;
        var b = Validate("""{ "items":[{"price":1.5,"qty":1,"sku":"A"}], "currency":"EUR", "userId":"u", "amount": 1.5 }""").Order!;
        var c = Validate("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":2,"price":1.50}]}""").Order!;
        Assert.Equal(a.Hash(), b.Hash());
        Assert.NotEqual(a.Hash(), c.Hash());
    }

    [Fact]
    public void A_price_may_be_left_out_or_null_since_the_catalogue_decides_it()
    {
        var (order, errors) = Validate("""{"userId":"u","currency":"EUR","items":[{"sku":"A","qty":2},{"sku":"B","qty":1,"price":null}]}""");
        Assert.Empty(errors);
        // 0 is "no price quoted": it travels in order.created and is never charged.
        Assert.Equal([new OrderLine("A", 2, 0m), new OrderLine("B", 1, 0m)], order!.Items);
        Assert.Equal(0m, order.Amount);
    }
}
