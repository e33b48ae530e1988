using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
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
        Topics.InventoryReserved => OutgoingEvent.For(new InventoryReservedV2(OrderId, "alice", [new PricedLine("SKU-1", 2, 9.99m)], 19.98m, "EUR")),
        Topics.InventoryReservedV1 => OutgoingEvent.For(new InventoryReservedV1(OrderId, "alice", Lines, 19.98m, "EUR")),
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
        Topics.OrderShipRequested => OutgoingEvent.For(new OrderShipRequestedV1(OrderId, "sam-seller", DateTimeOffset.UtcNow)),
        Topics.ShipmentDispatched => OutgoingEvent.For(new ShipmentDispatchedV1(OrderId, Guid.CreateVersion7(), [new SkuQuantity("SKU-1", 2)], "sam-seller", DateTimeOffset.UtcNow)),
        _ => throw new ArgumentOutOfRangeException(nameof(topic)),
    };

    [Theory]
    [MemberData(nameof(AllTopics))]
    public void A_serialized_event_matches_its_documented_schema(string topic)
    {
        var message = JsonDocument.Parse(Outbox.Serialize(Sample(topic), Guid.CreateVersion7(), Guid.CreateVersion7(), DateTimeOffset.UtcNow)).RootElement;
        AssertValid(topic, message);
    }

    [Theory]
    [MemberData(nameof(AllTopics))]
    public void The_schema_rejects_a_wrong_version_and_a_missing_payload(string topic)
    {
        var wrongVersion = EventType.Parse(topic).Version + 1;
        Assert.Contains(("/version", "const"), Failures(topic, Changed(topic, "/version", wrongVersion.ToString())));
        Assert.Contains(("", "required"), Failures(topic, Changed(topic, "/payload", null)));
    }

    [Theory]
    [InlineData(Topics.OrderCreated, "/payload/items/0/qty", "0")]               // below minimum, in a $defs type reached through $ref
    [InlineData(Topics.OrderCreated, "/payload/currency", "\"eur\"")]            // pattern
    [InlineData(Topics.PaymentAuthorized, "/payload/amount", "\"19.98\"")]       // a number sent as a string
    [InlineData(Topics.OrderUpdated, "/payload/status", "\"RETURNED\"")]        // not in the enum
    [InlineData(Topics.InventoryFailed, "/eventId", "\"not-a-uuid\"")]          // format uuid: checked, not only annotated
    [InlineData(Topics.OrderCancelRequested, "/payload/requestedAt", "\"soon\"")] // format date-time
    [InlineData(Topics.InventoryAdjusted, "/payload/quantity", "1.5")]           // integer
    [InlineData(Topics.InventoryReserved, "/payload/lines/0/unitPrice", "0")]   // a catalogue price is above 0
    public void The_schema_rejects_a_sample_with_a_wrong_value(string topic, string pointer, string json) =>
        Assert.Contains(Failures(topic, Changed(topic, pointer, json)), f => f.Location == pointer);

    [Theory]
    [InlineData(Topics.OrderCreated, "/payload", "userId")]
    [InlineData(Topics.PaymentFailed, "/payload", "orderId")]
    [InlineData(Topics.InventoryReleased, "/payload/items/0", "sku")]
    [InlineData(Topics.InventoryAdjusted, "", "correlationId")]
    public void The_schema_rejects_a_sample_missing_a_required_field(string topic, string parent, string field) =>
        Assert.Contains((parent, "required"), Failures(topic, Changed(topic, $"{parent}/{field}", null)));

    /// <summary>
    /// The validator ignores a keyword it does not know (a typo such as <c>minLenght</c> would check
    /// nothing), so every keyword the samples reach must be one it knows.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllTopics))]
    public void Every_schema_keyword_is_one_the_validator_checks(string topic)
    {
        var message = JsonDocument.Parse(Outbox.Serialize(Sample(topic), Guid.CreateVersion7(), Guid.CreateVersion7(), DateTimeOffset.UtcNow)).RootElement;
        var unknown = (Schema(topic).Evaluate(message, Options).Details ?? [])
            .SelectMany(d => d.Annotations ?? [])
            .Where(a => a.Key == "$unknownKeywords")
            .Select(a => a.Value.ToString());
        Assert.Empty(unknown);
    }

    public static TheoryData<string, OutgoingEvent> CompensationVariants => new()
    {
        { Topics.InventoryReleased, OutgoingEvent.For(new InventoryReleasedV1(OrderId, [], FailureReasons.Cancelled)) },
        { Topics.InventoryReleased, OutgoingEvent.For(new InventoryReleasedV1(OrderId, [new SkuQuantity("SKU-1", 2)], FailureReasons.SagaTimeout)) },
        { Topics.OrderCancelRequested, OutgoingEvent.For(new OrderCancelRequestedV1(OrderId, null, DateTimeOffset.UtcNow)) },
        { Topics.OrderUpdated, OutgoingEvent.For(new OrderUpdatedV1(OrderId, OrderStatus.Cancelled, "changed my mind", DateTimeOffset.UtcNow)) },
        { Topics.OrderUpdated, OutgoingEvent.For(new OrderUpdatedV1(OrderId, OrderStatus.Failed, FailureReasons.SagaTimeout, DateTimeOffset.UtcNow)) },
        { Topics.OrderUpdated, OutgoingEvent.For(new OrderUpdatedV1(OrderId, OrderStatus.Shipped, null, DateTimeOffset.UtcNow)) },
    };

    [Theory]
    [MemberData(nameof(CompensationVariants))]
    public void Compensation_variants_match_their_schema(string topic, OutgoingEvent sample)
    {
        var message = JsonDocument.Parse(Outbox.Serialize(sample, Guid.CreateVersion7(), null, DateTimeOffset.UtcNow)).RootElement;
        AssertValid(topic, message);
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

    // JSON Schema 2020-12 (the schemas' $schema, JsonSchema.Net's default) treats format as an annotation
    // unless asked; the schemas promise uuid and date-time values, so they are checked.
    private static readonly EvaluationOptions Options = new()
    {
        OutputFormat = OutputFormat.List, RequireFormatValidation = true, AddAnnotationForUnknownKeywords = true,
    };

    private static JsonSchema Schema(string topic) =>
        JsonSchema.FromText(File.ReadAllText(Path.Combine(Repo.Root, "docs", "events", $"{topic}.schema.json")));

    /// <summary>Each failed keyword as (instance location as a JSON pointer, keyword); empty when the message is valid.</summary>
    private static List<(string Location, string Keyword)> Failures(string topic, JsonElement message)
    {
        var results = Schema(topic).Evaluate(message, Options);
        var failures = (results.Details ?? []).SelectMany(d => (d.Errors ?? []).Select(e => (d.InstanceLocation.ToString(), e.Key))).ToList();
        Assert.Equal(results.IsValid, failures.Count == 0);
        return failures;
    }

    private static void AssertValid(string topic, JsonElement message)
    {
        var results = Schema(topic).Evaluate(message, Options);
        Assert.True(results.IsValid, string.Join("\n", (results.Details ?? [])
            .SelectMany(d => (d.Errors ?? []).Select(e => $"{d.InstanceLocation} {e.Key}: {e.Value}"))));
    }

    /// <summary>The topic's sample with the value at <paramref name="pointer"/> replaced by <paramref name="json"/>, or removed if null.</summary>
    private static JsonElement Changed(string topic, string pointer, string? json)
    {
        var message = JsonNode.Parse(Outbox.Serialize(Sample(topic), Guid.CreateVersion7(), null, DateTimeOffset.UtcNow))!;
        var path = pointer.Split('/')[1..];
        var parent = path[..^1].Aggregate(message, (node, part) => int.TryParse(part, out var i) ? node[i]! : node[part]!).AsObject();
        if (json is null) Assert.True(parent.Remove(path[^1]), $"{pointer} is not in the {topic} sample");
        else
        {
            Assert.True(parent.ContainsKey(path[^1]), $"{pointer} is not in the {topic} sample");
            parent[path[^1]] = JsonNode.Parse(json);
        }
        return JsonSerializer.SerializeToElement(message);
    }
}
