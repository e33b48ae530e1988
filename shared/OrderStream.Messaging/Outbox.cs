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
    private static readonly string InsertAllSql = InsertSql();

    /// <summary>
    /// The outbox insert, for a statement that also holds the state change in a <c>WITH</c> clause: one
    /// statement is one transaction, so state and events still commit together, in one round trip instead of
    /// a BEGIN, two statements and a COMMIT. <paramref name="filter"/> is a condition on the row's columns
    /// (<c>msg_key</c>, <c>topic</c>...) that only the rows to write meet. Its parameters: <see cref="Parameters"/>.
    /// </summary>
    public static string InsertSql(string filter = "true") => $"""
        INSERT INTO outbox (event_id, topic, msg_key, event_type, payload, traceparent, tracestate)
        SELECT event_id, topic, msg_key, event_type, payload, traceparent, tracestate
        FROM unnest(@EventIds, @Topics, @Keys, @Types, @Payloads, @TraceParents, @TraceStates) WITH ORDINALITY
             AS r(event_id, topic, msg_key, event_type, payload, traceparent, tracestate, n)
        WHERE {filter}
        ORDER BY n
        """;

    /// <summary>The parameters of <see cref="InsertSql"/>: parallel arrays, one entry per row.</summary>
    public static DynamicParameters Parameters(IReadOnlyList<OutboxRow> rows) => new(new
    {
        EventIds = rows.Select(r => r.EventId).ToArray(),
        Topics = rows.Select(r => r.Topic).ToArray(),
        Keys = rows.Select(r => r.Key).ToArray(),
        Types = rows.Select(r => r.Topic).ToArray(),
        Payloads = rows.Select(r => r.Payload).ToArray(),
        TraceParents = rows.Select(r => r.TraceParent).ToArray(),
        TraceStates = rows.Select(r => r.TraceState).ToArray(),
    });

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
    public static Task WriteAsync(NpgsqlTransaction tx, IReadOnlyCollection<OutgoingEvent> events, Guid? causationId, CancellationToken ct)
    {
        var rows = new List<OutboxRow>(events.Count);
        Prepare(rows, events, causationId);
        return InsertAsync(tx, rows, ct);
    }

    /// <summary>
    /// Turns <paramref name="events"/> into outbox rows, stamped with the current trace context. A batch
    /// of consumed messages prepares each message's rows under its own span, then inserts them all at once.
    /// </summary>
    public static void Prepare(List<OutboxRow> rows, IReadOnlyCollection<OutgoingEvent> events, Guid? causationId)
    {
        if (events.Count == 0) return;
        var (traceParent, traceState) = MessagingTelemetry.CaptureCurrent();
        var now = DateTimeOffset.UtcNow;
        foreach (var e in events)
        {
            var eventId = Guid.CreateVersion7(now);
            rows.Add(new OutboxRow(eventId, e.Topic, e.Key, Serialize(e, eventId, causationId, now), traceParent, traceState));
        }
    }

    /// <summary>One round trip for all the rows (unnest of parallel arrays); their ids follow the list's order.</summary>
    public static async Task InsertAsync(NpgsqlTransaction tx, IReadOnlyList<OutboxRow> rows, CancellationToken ct)
    {
        if (rows.Count == 0) return;
        await tx.Connection!.ExecuteAsync(new CommandDefinition(InsertAllSql, Parameters(rows), tx, cancellationToken: ct));
    }
}

/// <summary>An outbox row ready to insert: the serialized envelope and the trace context it continues.</summary>
public sealed record OutboxRow(Guid EventId, string Topic, string Key, byte[] Payload, string? TraceParent, string? TraceState);
