using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using OrderStream.Contracts;

namespace OrderStream.Messaging.Consumer;

/// <summary>A consumed message checked and read: its order key, its subscription, its envelope and event.</summary>
internal sealed record Decoded(ConsumeResult<byte[]?, byte[]?> Message, string Key, Subscription Subscription, Envelope Envelope, IOrderEvent Event);

/// <summary>
/// Bytes to a <see cref="Decoded"/> event. Anything that can never succeed (a foreign event type,
/// an empty or malformed body, an unknown type or version, no event id, a key that is not the
/// payload's order id) throws <see cref="PermanentMessageException"/>: the message is dead-lettered unretried.
/// </summary>
internal sealed class MessageDecoder(EventSubscriptions subscriptions)
{
    public Decoded Decode(ConsumeResult<byte[]?, byte[]?> message)
    {
        var key = message.Message.Key is { } k ? Encoding.UTF8.GetString(k) : null;
        var eventType = MessagingTelemetry.Header(message.Message.Headers, Contracts.Headers.EventType);
        var subscription = subscriptions.For(message.Topic);
        if (eventType is not null && eventType != message.Topic)
            throw new PermanentMessageException($"Event type '{eventType}' does not belong on topic '{message.Topic}'");
        if (message.Message.Value is not { Length: > 0 } value)
            throw new PermanentMessageException("Empty message body");
        try
        {
            var envelope = JsonSerializer.Deserialize<Envelope>(value, EventJson.Options)
                ?? throw new PermanentMessageException("Null envelope");
            if (envelope.VersionedType != message.Topic)
                throw new PermanentMessageException($"Unknown event type or version '{envelope.VersionedType}' on topic '{message.Topic}'");
            if (envelope.EventId == Guid.Empty)
                throw new PermanentMessageException("Envelope has no event id");
            var evt = subscription.Deserialize(envelope.Payload)
                ?? throw new PermanentMessageException("Null payload");
            if (evt.OrderId == Guid.Empty || key != evt.OrderId.ToString())
                throw new PermanentMessageException($"Message key '{key}' is not the payload's order id '{evt.OrderId}'");
            return new Decoded(message, key, subscription, envelope, evt);
        }
        catch (JsonException ex)
        {
            throw new PermanentMessageException($"Malformed event: {ex.Message}", ex);
        }
    }
}
