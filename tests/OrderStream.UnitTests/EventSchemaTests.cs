using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.Messaging;
using OrderStream.TestSupport;

namespace OrderStream.UnitTests;

public class EventSchemaTests
{
    private static readonly Guid OrderId = Guid.CreateVersion7();
    private static readonly OrderLine[] Lines = [new("SKU-1", 2, 9.99m)];

    public static TheoryData<string> AllTopics => new(Topics.All);

    private static OutgoingEvent Sample(string topic) => topic switch
    {
        Topics.OrderCreated => OutgoingEvent.For(new OrderCreatedV1(OrderId, "alice", Lines, 19.98m, "EUR", DateTimeOffset.UtcNow)),
        Topics.InventoryReserved => OutgoingEvent.For(new InventoryReservedV1(OrderId, "alice", Lines, 19.98m, "EUR")),
        Topics.InventoryFailed => OutgoingEvent.For(new InventoryFailedV1(OrderId, FailureReasons.OutOfStock, "SKU-1")),
        Topics.InventoryReleased => OutgoingEvent.For(new InventoryReleasedV1(OrderId, [new SkuQuantity("SKU-1", 2)], FailureReasons.PaymentDeclined)),
        Topics.PaymentAuthorized => OutgoingEvent.For(new PaymentAuthorizedV1(OrderId, Guid.CreateVersion7(), 19.98m, "EUR")),
        Topics.PaymentFailed => OutgoingEvent.For(new PaymentFailedV1(OrderId, Guid.CreateVersion7(), FailureReasons.PaymentDeclined)),
        Topics.OrderUpdated => OutgoingEvent.For(new OrderUpdatedV1(OrderId, OrderStatus.Confirmed, null, DateTimeOffset.UtcNow)),
        Topics.InventoryAdjusted => OutgoingEvent.ForStock(new InventoryAdjustedV1(Guid.CreateVersion7(), "SKU-1", -3, AdjustmentKinds.Adjustment, "damaged", 7, 10, DateTimeOffset.UtcNow)),
        Topics.OrderCancelRequested => OutgoingEvent.For(new OrderCancelRequestedV1(OrderId, "changed my mind", DateTimeOffset.UtcNow)),
        Topics.InventorySold => OutgoingEvent.For(new InventorySoldV1(OrderId, [new SkuQuantity("SKU-1", 2)])),
        Topics.InventoryReturned => OutgoingEvent.For(new InventoryReturnedV1(OrderId, [new SkuQuantity("SKU-1", 2)], FailureReasons.Cancelled)),
        Topics.PaymentVoided => OutgoingEvent.For(new PaymentVoidedV1(OrderId, Guid.CreateVersion7(), 19.98m, "EUR", FailureReasons.SagaTimeout)),
        Topics.PaymentRefunded => OutgoingEvent.For(new PaymentRefundedV1(OrderId, Guid.CreateVersion7(), 19.98m, "EUR", FailureReasons.Cancelled)),
        _ => throw new ArgumentOutOfRangeException(nameof(topic)),
    };

    [Theory]
    [MemberData(nameof(AllTopics))]
    public void A_serialized_event_matches_its_documented_schema(string topic)
    {
        var schema = Schema(topic);
        var message = JsonDocument.Parse(Outbox.Serialize(Sample(topic), Guid.CreateVersion7(), Guid.CreateVersion7(), DateTimeOffset.UtcNow)).RootElement;
        Assert.Empty(SchemaCheck.Validate(schema, message));
    }

    [Theory]
    [MemberData(nameof(AllTopics))]
    public void The_schema_rejects_a_wrong_version_and_a_missing_payload(string topic)
    {
        var schema = Schema(topic);
        var json = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(Outbox.Serialize(Sample(topic), Guid.CreateVersion7(), null, DateTimeOffset.UtcNow))!;
        json["version"] = JsonDocument.Parse("2").RootElement;
        Assert.NotEmpty(SchemaCheck.Validate(schema, JsonSerializer.SerializeToElement(json)));
        json.Remove("payload");
        Assert.NotEmpty(SchemaCheck.Validate(schema, JsonSerializer.SerializeToElement(json)));
    }

    public static TheoryData<string, OutgoingEvent> CompensationVariants => new()
    {
        { Topics.InventoryReleased, OutgoingEvent.For(new InventoryReleasedV1(OrderId, [], FailureReasons.Cancelled)) },
        { Topics.InventoryReleased, OutgoingEvent.For(new InventoryReleasedV1(OrderId, [new SkuQuantity("SKU-1", 2)], FailureReasons.SagaTimeout)) },
        { Topics.OrderCancelRequested, OutgoingEvent.For(new OrderCancelRequestedV1(OrderId, null, DateTimeOffset.UtcNow)) },
        { Topics.OrderUpdated, OutgoingEvent.For(new OrderUpdatedV1(OrderId, OrderStatus.Cancelled, "changed my mind", DateTimeOffset.UtcNow)) },
        { Topics.OrderUpdated, OutgoingEvent.For(new OrderUpdatedV1(OrderId, OrderStatus.Failed, FailureReasons.SagaTimeout, DateTimeOffset.UtcNow)) },
    };

    [Theory]
    [MemberData(nameof(CompensationVariants))]
    public void Compensation_variants_match_their_schema(string topic, OutgoingEvent sample)
    {
        var message = JsonDocument.Parse(Outbox.Serialize(sample, Guid.CreateVersion7(), null, DateTimeOffset.UtcNow)).RootElement;
        Assert.Empty(SchemaCheck.Validate(Schema(topic), message));
    }

    [Fact]
    public void Every_topic_has_a_schema_and_every_schema_a_topic()
    {
        var files = Directory.GetFiles(Path.Combine(Repo.Root, "docs", "events"), "*.schema.json").Select(f => Path.GetFileName(f).Replace(".schema.json", ""));
        Assert.Equal(Topics.All.Order(), files.Order());
    }

    [Theory]
    [InlineData("order.created.v1", "order.created", 1)]
    [InlineData("payment.failed.v12", "payment.failed", 12)]
    public void A_versioned_type_splits_into_name_and_version(string text, string name, int version) =>
        Assert.Equal((name, version), EventType.Parse(text));

    [Theory]
    [InlineData("order.created")]
    [InlineData("v1")]
    [InlineData("order.created.vX")]
    public void A_type_without_a_version_is_rejected(string text) => Assert.Throws<FormatException>(() => EventType.Parse(text));

    private static JsonElement Schema(string topic) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, "docs", "events", $"{topic}.schema.json"))).RootElement;
}
