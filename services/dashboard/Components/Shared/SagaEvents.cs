using System.Globalization;
using OrderStream.Contracts;

namespace OrderStream.Dashboard.Components.Shared;

/// <summary>One event of an order's saga as the timeline draws it.</summary>
public sealed record TimelineRow(string Type, string Service, bool Compensation, DateTimeOffset At, TimeSpan? AfterPrevious, TimeSpan AfterStart);

/// <summary>What the dashboard knows about saga events from their topic alone.</summary>
public static class SagaEvents
{
    /// <summary>The events that undo an earlier step (compensation), as opposed to moving the saga forward.</summary>
    public static readonly IReadOnlySet<string> Compensations = new HashSet<string>(StringComparer.Ordinal)
    {
        Topics.InventoryReleased, Topics.InventoryReturned, Topics.PaymentVoided, Topics.PaymentRefunded,
    };

    /// <summary>
    /// The service that produced an event, from its topic's prefix: each service publishes only its own
    /// topics (order.* from the gateway's outbox, inventory.*, payment.* and shipment.* from theirs).
    /// </summary>
    public static string Producer(string type) => type switch
    {
        _ when type.StartsWith("shipment.", StringComparison.Ordinal) => "fulfilment",
        _ when type.StartsWith("order.", StringComparison.Ordinal) => "gateway",
        _ when type.StartsWith("inventory.", StringComparison.Ordinal) => "inventory",
        _ when type.StartsWith("payment.", StringComparison.Ordinal) => "payment",
        _ => "unknown",
    };

    public static bool IsCompensation(string type) => Compensations.Contains(type);

    /// <summary>The timeline in time order, each event with its producer and its delay after the one before.</summary>
    public static IReadOnlyList<TimelineRow> Rows(IEnumerable<TimelineEntry> timeline)
    {
        var rows = new List<TimelineRow>();
        DateTimeOffset? first = null, previous = null;
        foreach (var entry in timeline.OrderBy(e => e.OccurredAt))
        {
            first ??= entry.OccurredAt;
            rows.Add(new TimelineRow(entry.Type, Producer(entry.Type), IsCompensation(entry.Type), entry.OccurredAt,
                previous is { } p ? entry.OccurredAt - p : null, entry.OccurredAt - first.Value));
            previous = entry.OccurredAt;
        }
        return rows;
    }

    /// <summary>"+42 ms", "+1.25 s", "+2 min 5 s": short enough for a phone's timeline row.</summary>
    public static string Delay(TimeSpan delay) => delay switch
    {
        { TotalMilliseconds: < 1_000 } => $"+{delay.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture)} ms",
        { TotalSeconds: < 60 } => $"+{delay.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture)} s",
        _ => $"+{(int)delay.TotalMinutes} min {delay.Seconds} s",
    };
}
