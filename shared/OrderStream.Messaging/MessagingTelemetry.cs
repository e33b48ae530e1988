using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;

namespace OrderStream.Messaging;

/// <summary>
/// The one ActivitySource for messaging. Spans are named "send {topic}" and "process {topic}" and carry the
/// OpenTelemetry messaging attributes plus <c>order.id</c>, so an order's trace can be found by id.
/// </summary>
public static class MessagingTelemetry
{
    public const string SourceName = "OrderStream.Messaging";
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>The messaging meter: outbox backlog, consumer lag, dead letters.</summary>
    public static readonly Meter Meter = new(SourceName);

    internal static readonly Counter<long> DeadLettered = Meter.CreateCounter<long>(
        "orderstream.messaging.dead_lettered", "{message}", "Messages sent to a dead-letter topic");

    /// <summary>Redeliveries the inbox turned into no-ops: the proof that a crash or a duplicate publish changed nothing.</summary>
    internal static readonly Counter<long> Duplicates = Meter.CreateCounter<long>(
        "orderstream.consumer.duplicates", "{message}", "Events received again and skipped because the inbox already held their id");

    /// <summary>
    /// Outbox rows produced but left unsent for the next batch: their delivery was not confirmed (a timeout on
    /// the client after the broker appended it, a row after the first failure) or "sent" could not be recorded.
    /// Short of a crash, this bounds the copies the outbox publishes: it delivers at least once.
    /// </summary>
    internal static readonly Counter<long> Unconfirmed = Meter.CreateCounter<long>(
        "orderstream.outbox.unconfirmed", "{event}", "Outbox rows produced but left unsent, to be published again");

    internal static void CountDuplicate(string group, string topic) => Duplicates.Add(1, Tags(group, topic));

    internal static void CountDeadLetter(string group, string topic) => DeadLettered.Add(1, Tags(group, topic));

    /// <summary>
    /// Starts a consumer's counters at zero for each of its topics, so that "none yet" reads as 0 on /metrics
    /// and a rate can be taken from the start, instead of the series appearing with the first event.
    /// </summary>
    internal static void StartCounters(string group, IEnumerable<string> topics)
    {
        foreach (var topic in topics)
        {
            Duplicates.Add(0, Tags(group, topic));
            DeadLettered.Add(0, Tags(group, topic));
        }
    }

    private static TagList Tags(string group, string topic) => new() { { "messaging.consumer.group.name", group }, { "messaging.destination.name", topic } };

    /// <summary>The W3C context of the current activity, captured when an outbox row is written.</summary>
    public static (string? TraceParent, string? TraceState) CaptureCurrent()
    {
        var current = Activity.Current;
        return current is null || current.IdFormat != ActivityIdFormat.W3C ? (null, null) : (current.Id, current.TraceStateString);
    }

    /// <summary>Parses a W3C context; anything malformed is ignored (a new root is better than an error).</summary>
    public static ActivityContext ParseParent(string? traceParent, string? traceState) =>
        traceParent is not null && ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context)
            ? context
            : default;

    /// <summary>The producer span of one outbox row, continuing the trace that wrote the row.</summary>
    public static Activity? StartSend(string topic, string key, Guid eventId, string eventType, string? traceParent, string? traceState)
    {
        var activity = Start("send", topic, ActivityKind.Producer, ParseParent(traceParent, traceState));
        if (activity is not { IsAllDataRequested: true }) return activity;
        activity.SetTag("messaging.kafka.message.key", key);
        activity.SetTag("messaging.message.id", eventId.ToString());
        TagEventType(activity, eventType);
        activity.SetTag("order.id", key);
        return activity;
    }

    /// <summary>The consumer span of one message, continuing the trace of the producer span in its headers.</summary>
    public static Activity? StartProcess(ConsumeResult<byte[]?, byte[]?> message, string? key, string group, string? eventId, string? eventType)
    {
        var parent = ParseParent(Header(message.Message.Headers, Contracts.Headers.TraceParent), Header(message.Message.Headers, Contracts.Headers.TraceState));
        var activity = Start("process", message.Topic, ActivityKind.Consumer, parent);
        if (activity is not { IsAllDataRequested: true }) return activity;
        activity.SetTag("messaging.consumer.group.name", group);
        activity.SetTag("messaging.destination.partition.id", message.Partition.Value.ToString());
        activity.SetTag("messaging.kafka.offset", message.Offset.Value);
        activity.SetTag("messaging.kafka.message.key", key);
        activity.SetTag("messaging.message.id", eventId);
        TagEventType(activity, eventType);
        activity.SetTag("order.id", key);
        return activity;
    }

    // Named "{operation} {destination}", as the messaging conventions ask. Attributes are set only on a
    // recorded span: an unrecorded one (no exporter) exists only to carry the trace context on.
    private static Activity? Start(string operation, string topic, ActivityKind kind, ActivityContext parent)
    {
        var activity = Source.StartActivity($"{operation} {topic}", kind, parent);
        if (activity is not { IsAllDataRequested: true }) return activity;
        activity.SetTag("messaging.system", "kafka");
        activity.SetTag("messaging.operation.type", operation);
        activity.SetTag("messaging.operation.name", operation);
        activity.SetTag("messaging.destination.name", topic);
        return activity;
    }

    // "order.created.v1" → event.type "order.created", event.version 1 (a malformed type is kept as it is).
    private static void TagEventType(Activity activity, string? versionedType)
    {
        if (versionedType is null) return;
        try
        {
            var (name, version) = Contracts.EventType.Parse(versionedType);
            activity.SetTag("event.type", name);
            activity.SetTag("event.version", version);
        }
        catch (FormatException)
        {
            activity.SetTag("event.type", versionedType);
        }
    }

    internal static string? Header(Confluent.Kafka.Headers? headers, string name) =>
        headers is not null && headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
}
