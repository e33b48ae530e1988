using System.Text.Json;
using OrderStream.ApiGateway.Validation;
using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.OrderMaterializer.Http;
using OrderStream.Payment.Domain;

namespace OrderStream.UnitTests;

public class OrderHoldTests
{
    [Fact]
    public void An_order_is_reserved_once_and_never_after_its_cancel()
    {
        Assert.Equal(StockAction.Reserve, OrderHold.OnOrderCreated(HoldStatus.New));
        foreach (var status in new[] { HoldStatus.Reserved, HoldStatus.Failed, HoldStatus.Sold, HoldStatus.Released, HoldStatus.Returned })
            Assert.Equal(StockAction.None, OrderHold.OnOrderCreated(status));
    }

    [Fact]
    public void A_payment_result_acts_only_on_an_open_reservation()
    {
        Assert.Equal(StockAction.Sell, OrderHold.OnPaymentAuthorized(HoldStatus.Reserved));
        Assert.Equal(StockAction.Release, OrderHold.OnPaymentFailed(HoldStatus.Reserved));
        // After the deadline or a cancel released the stock, a late authorization sells nothing (payment voids it).
        foreach (var status in new[] { HoldStatus.Released, HoldStatus.Sold, HoldStatus.Returned, HoldStatus.Failed, null })
        {
            Assert.Equal(StockAction.None, OrderHold.OnPaymentAuthorized(status));
            Assert.Equal(StockAction.None, OrderHold.OnPaymentFailed(status));
        }
    }

    [Theory]
    [InlineData(HoldStatus.New, StockAction.CloseUnreserved)]
    [InlineData(HoldStatus.Reserved, StockAction.Release)]
    [InlineData(HoldStatus.Sold, StockAction.Return)]
    [InlineData(HoldStatus.Failed, StockAction.None)]
    [InlineData(HoldStatus.Released, StockAction.None)]
    [InlineData(HoldStatus.Returned, StockAction.None)]
    public void A_cancel_undoes_what_inventory_holds_and_nothing_twice(string status, StockAction expected) =>
        Assert.Equal(expected, OrderHold.OnCancelRequested(status));

    [Fact]
    public void The_deadline_releases_only_an_open_reservation_once_it_is_old_enough()
    {
        var reservedAt = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var deadline = TimeSpan.FromMinutes(3);
        Assert.Equal(StockAction.None, OrderHold.OnDeadline(HoldStatus.Reserved, reservedAt, reservedAt + deadline - TimeSpan.FromMilliseconds(1), deadline));
        Assert.Equal(StockAction.Release, OrderHold.OnDeadline(HoldStatus.Reserved, reservedAt, reservedAt + deadline, deadline));
        Assert.Equal(StockAction.None, OrderHold.OnDeadline(HoldStatus.Sold, reservedAt, reservedAt + deadline * 2, deadline));
        Assert.Equal(StockAction.None, OrderHold.OnDeadline(HoldStatus.Released, reservedAt, reservedAt + deadline * 2, deadline));
    }
}

public class PaymentCompensationTests
{
    [Theory]
    [InlineData(PaymentStatus.Authorized, PaymentAction.Void)]
    [InlineData(null, PaymentAction.Close)]
    [InlineData(PaymentStatus.Declined, PaymentAction.None)]
    [InlineData(PaymentStatus.Voided, PaymentAction.None)]
    [InlineData(PaymentStatus.Refunded, PaymentAction.None)]
    public void A_release_voids_a_held_authorization_and_closes_an_undecided_order(string? status, PaymentAction expected) =>
        Assert.Equal(expected, Compensation.OnReleased(status));

    [Theory]
    [InlineData(PaymentStatus.Authorized, PaymentAction.Refund)]
    [InlineData(PaymentStatus.Refunded, PaymentAction.None)]
    [InlineData(PaymentStatus.Voided, PaymentAction.None)]
    public void A_return_refunds_the_payment_once(string status, PaymentAction expected) =>
        Assert.Equal(expected, Compensation.OnReturned(status));
}

public class CancelRequestTests
{
    private static (ValidCancel? Cancel, Dictionary<string, string[]> Errors) Validate(string? json) =>
        CancelRequest.Validate(json is null ? null : JsonDocument.Parse(json).RootElement);

    [Fact]
    public void No_body_is_a_cancel_without_a_reason() => Assert.Equal(new ValidCancel(null, null), Validate(null).Cancel);

    [Fact]
    public void Accepts_a_reason_and_a_user_id_trimmed() =>
        Assert.Equal(new ValidCancel("too slow", "alice"), Validate("""{"reason":"  too slow ","userId":"alice","other":1}""").Cancel);

    [Theory]
    [InlineData("[]", "body")]
    [InlineData("""{"reason":42}""", "reason")]
    [InlineData("""{"reason":"   "}""", "reason")]
    [InlineData("""{"reason":"a\u0000b"}""", "reason")]
    [InlineData("""{"userId":""}""", "userId")]
    public void Rejects_a_bad_field_by_name(string json, string field)
    {
        var (cancel, errors) = Validate(json);
        Assert.Null(cancel);
        Assert.Equal([field], errors.Keys);
    }

    [Fact]
    public void Rejects_a_reason_over_200_characters() =>
        Assert.Contains("reason", Validate($$"""{"reason":"{{new string('x', 201)}}"}""").Errors.Keys);
}

public class StuckQueryTests
{
    [Theory]
    [InlineData("30", 30)]
    [InlineData("0", 0)]
    [InlineData("00:02:00", 120)]
    [InlineData("1.00:00:00", 86_400)]
    public void Older_than_is_seconds_or_a_time_span(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), OrderViewEndpoints.ParseAge(text));

    [Theory]
    [InlineData("-5")]
    [InlineData("5m")]
    [InlineData("8.00:00:00")]
    [InlineData("999999999")]
    [InlineData("")]
    public void Anything_else_is_rejected(string text) => Assert.Null(OrderViewEndpoints.ParseAge(text));
}
