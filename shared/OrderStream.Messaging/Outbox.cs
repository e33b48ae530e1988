using System.Text.Json;
using Dapper;
using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.Messaging;

/// <summary>An event waiting to be written to the outbox. <see cref="Key"/> is the Kafka key and the envelope's correlation id.</summary>
public sealed record OutgoingEvent(string Topic, string Key, object Payload)
{
    public static OutgoingEvent For<TEvent>(TEvent evt) where TEvent : IEvent => new(TEvent.Topic, evt.OrderId.ToString(), evt);

    public static OutgoingEvent ForStock<TEvent>(TEvent evt) where TEvent : IStockEvent => new(TEvent.Topic, evt.Sku, evt);
}

/// <summary>
/// Writes events into the outbox table inside the caller's transaction. Nothing here talks to Kafka:
/// the relay is the only publisher, so state and events commit or roll back together.
/// </summary>
public static class Outbox
{
    private const string InsertSql = """
        INSERT INTO outbox (event_id, topic, msg_key, event_type, payload, traceparent, tracestate)
        SELECT * FROM unnest(@EventIds, @Topics, @Keys, @Types, @Payloads, @TraceParents, @TraceStates)
        """;

    /// <summary>The wire form of an event: the JSON envelope around its payload.</summary>
    public static byte[] Serialize(OutgoingEvent e, Guid eventId, Guid? causationId, DateTimeOffset occurredAt)
    {
        var (name, version) = EventType.Parse(e.Topic);
        return JsonSerializer.SerializeToUtf8Bytes(new
        {
            EventId = eventId, Type = name, Version = version, OccurredAt = occurredAt,
            CorrelationId = e.Key, CausationId = causationId, e.Payload,
        }, EventJson.Options);
    }

    /// <summary>Adds <paramref name="events"/> to the outbox in <paramref name="tx"/>; call <see cref="OutboxSignal.Notify"/> after commit.</summary>
    public static async Task WriteAsync(NpgsqlTransaction tx, IReadOnlyCollection<OutgoingEvent> events, Guid? causationId, CancellationToken ct)
    {
        if (events.Count == 0) return;
        var (traceParent, traceState) = MessagingTelemetry.CaptureCurrent();
        var now = DateTimeOffset.UtcNow;
        var rows = events.Select(e =>
        {
            var eventId = Guid.CreateVersion7(now);
            return (EventId: eventId, e.Topic, e.Key, Payload: Serialize(e, eventId, causationId, now));
        }).ToArray();

        // One round trip for all of a transaction's events (unnest of parallel arrays).
        await tx.Connection!.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            EventIds = rows.Select(r => r.EventId).ToArray(),
            Topics = rows.Select(r => r.Topic).ToArray(),
            Keys = rows.Select(r => r.Key).ToArray(),
            Types = rows.Select(r => r.Topic).ToArray(),
            Payloads = rows.Select(r => r.Payload).ToArray(),
            TraceParents = rows.Select(_ => traceParent).ToArray(),
            TraceStates = rows.Select(_ => traceState).ToArray(),
        }, tx, cancellationToken: ct));
    }
}
