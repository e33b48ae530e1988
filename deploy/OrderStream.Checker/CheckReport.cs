using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using OrderStream.Contracts;

namespace OrderStream.Checker;

/// <summary>The names of the checks, for code that asserts on one of them.</summary>
public static class CheckNames
{
    public const string Unsettled = "orders.unsettled";
    public const string DuplicateIdempotencyKeys = "gateway.duplicate-idempotency-keys";
    public const string DuplicateOrderCreated = "gateway.duplicate-order-created";
    public const string DuplicateInventoryDecisions = "inventory.duplicate-decisions";
    public const string DuplicateReleases = "inventory.duplicate-releases";
    public const string MixedReservations = "inventory.mixed-reservations";
    public const string DuplicatePayments = "payment.duplicate-decisions";
    public const string PaymentAmounts = "payment.amounts";
    public const string DuplicateTimelineEvents = "view.duplicate-events";
    public const string StockBalance = "stock.balance";
    public const string StockNegative = "stock.negative";
    public const string StockReserved = "stock.reserved";
    public const string StockVsReservations = "stock.vs-reservations";
    public const string SoldVsConfirmed = "stock.sold-vs-confirmed";
    public const string ConfirmedConsistency = "saga.confirmed";
    public const string DeclinedCompensated = "saga.declined";
    public const string InventoryFailedAlone = "saga.inventory-failed";
    public const string ConflictingOutcomes = "saga.conflicting-outcomes";
    public const string TimedOutCompensated = "saga.timed-out";
    public const string CancelledCompensated = "saga.cancelled";
    public const string VoidedAfterRelease = "saga.voided";
    public const string DuplicateCancelRequests = "gateway.duplicate-cancel-requests";
    public const string DuplicateShipments = "fulfilment.duplicate-shipments";
    public const string ShippedConsistency = "fulfilment.shipped";
    public const string ShipRequestsFulfilled = "fulfilment.requests";
    public const string OutboxUnsent = "outbox.unsent";
    public const string ConsumerLag = "kafka.lag";
    public const string DeadLettersUnaccounted = "kafka.dead-letters-unaccounted";
}

/// <summary>
/// One check: how many things are wrong (orders, SKUs, outboxes, partitions) and the first few of them.
/// Every check must find zero; a skipped check (Kafka not given) neither passes nor fails the report.
/// </summary>
public sealed record Finding(string Name, string Description, long Count, IReadOnlyList<string> Examples, bool Skipped = false)
{
    public bool Ok => Skipped || Count == 0;
}

/// <summary>Counts of what the books hold, to read next to the checks.</summary>
public sealed record Totals
{
    public long AcceptedOrders { get; init; }
    /// <summary>Accepted orders by their view status and reason ("CONFIRMED", "FAILED PAYMENT_DECLINED", "CANCELLED", "PENDING", "NO VIEW"); a cancel's free-text reason is left out.</summary>
    public IReadOnlyDictionary<string, long> Outcomes { get; init; } = new Dictionary<string, long>();
    public long Confirmed { get; init; }
    public long Failed { get; init; }
    public long Cancelled { get; init; }
    public long Shipped { get; init; }
    public long Pending { get; init; }
    /// <summary>Views of orders the gateway never accepted (events injected by hand or by a test).</summary>
    public long ViewsWithoutAcceptedOrder { get; init; }
    public long PaymentsAuthorized { get; init; }
    public long PaymentsDeclined { get; init; }
    /// <summary>Authorizations voided (their goods released by the deadline or a cancel before the sale).</summary>
    public long PaymentsVoided { get; init; }
    /// <summary>Payments refunded (confirmed orders cancelled).</summary>
    public long PaymentsRefunded { get; init; }
    /// <summary>Orders by the status of their reservation lines (RESERVED, SOLD, RELEASED, RETURNED).</summary>
    public IReadOnlyDictionary<string, long> ReservationsByStatus { get; init; } = new Dictionary<string, long>();
    public long Skus { get; init; }
    public long StockReceived { get; init; }
    public long Sold { get; init; }
}

/// <summary>
/// One consumer group: messages now on its topics, its inbox rows for those topics, the dead letters it
/// produced, and what that leaves: duplicates it received and skipped (see <see cref="CheckReport.SkippedFormula"/>).
/// </summary>
public sealed record ConsumerReport(string Group, ServiceSpec Service, IReadOnlyList<string> Topics, long InboxRows, long? Messages, long? DeadLetters, long? Lag)
{
    /// <summary>Messages − inbox rows − dead letters; null when it cannot be known (no Kafka, or the group still lags).</summary>
    public long? SkippedDuplicates => Messages is { } m && DeadLetters is { } d && Lag == 0 ? m - InboxRows - d : null;
}

/// <summary>The checker's verdict on one run of the system, with every finding and the measurements.</summary>
public sealed class CheckReport
{
    public const string SkippedFormula =
        "skipped duplicates = messages on the group's topics − its inbox rows for them − its dead letters " +
        "(valid when its lag is 0 and neither the topics nor the inbox have been pruned)";

    public const string OutboxNote =
        "peak outbox depth is not observable afterwards from the tables: shown are the unsent rows now, and the worst and " +
        "p99 wait (sent_at − created_at) of the sent ones; sample the orderstream.outbox.depth metric during a run for the peak";

    public const string RedeliveryNote =
        "a redelivery of the same offset (a consumer that died between its commit and its offset commit) leaves no row and no " +
        "message behind, so only duplicates on the topics (a relay that published twice, a replay of a copy) are counted";

    public DateTimeOffset CheckedAt { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>No outbox row was unsent or written while the checker looked, and (with Kafka) no group lagged.</summary>
    public bool Quiet { get; init; }
    public bool KafkaChecked { get; init; }
    public IReadOnlyList<Finding> Checks { get; init; } = [];
    public Totals Totals { get; init; } = new();
    public IReadOnlyList<OutboxStats> Outboxes { get; init; } = [];
    public IReadOnlyList<ConsumerReport> Consumers { get; init; } = [];
    public IReadOnlyList<TopicState> Topics { get; init; } = [];
    public IReadOnlyList<DeadLetter> DeadLetters { get; init; } = [];
    public SettleTimes SettleTimes { get; init; } = new(0, 0, 0);
    public IReadOnlyList<string> Notes { get; init; } = [SkippedFormula, OutboxNote, RedeliveryNote];

    /// <summary>True when every check that ran found nothing.</summary>
    public bool Passed => Checks.All(c => c.Ok);

    public Finding this[string name] => Checks.Single(c => c.Name == name);

    /// <summary>The checks that found something.</summary>
    [JsonIgnore] public IEnumerable<Finding> Failures => Checks.Where(c => !c.Ok);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase), new ServiceKeyConverter() },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>A text report: the verdict, one line per check (OK/FAIL/SKIP, count, description, examples), then the measurements.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        var state = (Quiet ? "quiet" : "NOT quiet: work was in flight, so some counts may be transient") + (KafkaChecked ? "" : "; Kafka not checked");
        s.AppendLine(c, $"OrderStream check at {CheckedAt:yyyy-MM-dd HH:mm:ss}Z: {(Passed ? "PASSED" : "FAILED")} ({state})");
        var t = Totals;
        var outcomes = string.Join(", ", t.Outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Value} {o.Key}"));
        var strays = t.ViewsWithoutAcceptedOrder > 0 ? $"; {t.ViewsWithoutAcceptedOrder} views of orders never accepted" : "";
        s.AppendLine(c, $"Orders: {t.AcceptedOrders} accepted: {outcomes}{strays}");
        var byStatus = t.ReservationsByStatus.Count == 0 ? "none" : string.Join(", ", t.ReservationsByStatus.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => $"{r.Value} {r.Key}"));
        s.AppendLine(c, $"Payments: {t.PaymentsAuthorized} {PaymentStatus.Authorized}, {t.PaymentsDeclined} {PaymentStatus.Declined}, {t.PaymentsVoided} {PaymentStatus.Voided}, {t.PaymentsRefunded} {PaymentStatus.Refunded}. Reservations (orders): {byStatus}");
        s.AppendLine(c, $"Stock: {t.Skus} SKUs, {t.StockReceived} units received, {t.Sold} sold");
        s.AppendLine();
        s.AppendLine("Checks");
        var width = Checks.Count == 0 ? 0 : Checks.Max(x => x.Name.Length);
        foreach (var f in Checks)
        {
            var verdict = f.Skipped ? "SKIP" : f.Ok ? "OK  " : "FAIL";
            s.Append(c, $"  {verdict}  {f.Name.PadRight(width)}  {(f.Skipped ? "-" : f.Count.ToString(c)),6}  {f.Description}");
            if (f.Examples.Count > 0) s.Append(c, $"; e.g. {string.Join("; ", f.Examples)}{(f.Count > f.Examples.Count ? "; ..." : "")}");
            s.AppendLine();
        }
        s.AppendLine();
        s.AppendLine("Outboxes (not pass/fail)");
        foreach (var o in Outboxes)
            s.AppendLine(c, $"  {o.Service.Section,-12} {o.Unsent} unsent{(o.Unsent > 0 ? $" (oldest {o.OldestUnsentSeconds:0.###} s)" : "")}, {o.Sent} sent; wait max {o.MaxWaitSeconds:0.###} s, p99 {o.P99WaitSeconds:0.###} s");
        s.AppendLine(c, $"Time to settle (view settled_at − created_at) over {SettleTimes.Settled} orders: max {SettleTimes.MaxSeconds:0.###} s, p99 {SettleTimes.P99Seconds:0.###} s");
        s.AppendLine();
        s.AppendLine("Consumers (not pass/fail)");
        foreach (var g in Consumers)
            s.AppendLine(c, $"  {g.Group,-20} inbox {g.InboxRows}, messages {Show(g.Messages)}, dead letters {Show(g.DeadLetters)}, lag {Show(g.Lag)} => skipped duplicates {Show(g.SkippedDuplicates)}");
        s.AppendLine();
        s.AppendLine(c, $"Dead letters: {(KafkaChecked ? DeadLetters.Count.ToString(c) : "not checked")}");
        foreach (var d in DeadLetters)
            s.AppendLine(c, $"  {d.Topic} [{d.Partition}] @{d.Offset} <- {d.OriginalTopic ?? "?"} [{d.OriginalPartition ?? "?"}] @{d.OriginalOffset ?? "?"}" +
                $" by {d.ConsumerGroup ?? "?"}: {d.ErrorType ?? "?"}: {d.ErrorMessage ?? "(no error message)"}");
        s.AppendLine();
        s.AppendLine("Notes");
        foreach (var n in Notes) s.AppendLine(c, $"  - {n}");
        return s.ToString();

        static string Show(long? value) => value?.ToString(CultureInfo.InvariantCulture) ?? "n/a";
    }
}

/// <summary>A service in the JSON report is its catalogue key (<c>"gateway"</c>), not the whole catalogue entry.</summary>
public sealed class ServiceKeyConverter : JsonConverter<ServiceSpec>
{
    public override ServiceSpec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        Catalogue.ByKey(reader.GetString() ?? throw new JsonException("A service key is expected"));

    public override void Write(Utf8JsonWriter writer, ServiceSpec value, JsonSerializerOptions options) => writer.WriteStringValue(value.Key);
}
