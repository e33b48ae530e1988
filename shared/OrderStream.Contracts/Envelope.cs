using System.Text.Json;

namespace OrderStream.Contracts;

/// <summary>
/// The one envelope every event travels in (JSON, camelCase). <see cref="Type"/> and
/// <see cref="Version"/> together name the event (<c>order.created</c> + 1 = topic
/// <c>order.created.v1</c>); <see cref="CorrelationId"/> is the order id; <see cref="CausationId"/>
/// is the event id of the message whose handling produced this one (null for events caused by an
/// HTTP request).
/// </summary>
public sealed record Envelope(
    Guid EventId,
    string Type,
    int Version,
    DateTimeOffset OccurredAt,
    string CorrelationId,
    Guid? CausationId,
    JsonElement Payload)
{
    public string VersionedType => $"{Type}.v{Version}";
}

/// <summary>The header names every message carries, so routing and dead-lettering never parse the body.</summary>
public static class Headers
{
    public const string EventType = "event-type";
    public const string EventId = "event-id";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
}

/// <summary>The serializer settings shared by producers and consumers of every event.</summary>
public static class EventJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        // A field of the wrong type or a missing required field must fail loudly, not default to 0/null.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };
}
