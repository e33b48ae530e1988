namespace OrderStream.Contracts;

/// <summary>
/// Every saga topic. A topic carries exactly one event type and version, so the topic name is
/// also the event's identity (<c>event-type</c> header); a breaking change is a new <c>.v2</c> topic.
/// </summary>
public static class Topics
{
    public const string OrderCreated = "order.created.v1";
    /// <summary>
    /// The current inventory.reserved: every line priced from inventory's catalogue (<see cref="InventoryReservedV2"/>).
    /// The name without a version is the one producers write; a version bump moves it on.
    /// </summary>
    public const string InventoryReserved = "inventory.reserved.v2";
    /// <summary>
    /// The retiring inventory.reserved, priced as the client asked (<see cref="InventoryReservedV1"/>). Nothing writes it any
    /// more; payment and the materializer still read it so events written before the rollout settle (docs/envelope.md,
    /// "Versioning"). Retired, with its subscriptions, once no consumer has a message of it left.
    /// </summary>
    public const string InventoryReservedV1 = "inventory.reserved.v1";
    public const string InventoryFailed = "inventory.failed.v1";
    public const string InventoryReleased = "inventory.released.v1";
    public const string PaymentAuthorized = "payment.authorized.v1";
    public const string PaymentFailed = "payment.failed.v1";
    public const string OrderUpdated = "order.updated.v1";
    public const string InventoryAdjusted = "inventory.adjusted.v1";
    public const string OrderCancelRequested = "order.cancel-requested.v1";
    public const string InventorySold = "inventory.sold.v1";
    public const string InventoryReturned = "inventory.returned.v1";
    public const string PaymentVoided = "payment.voided.v1";
    public const string PaymentRefunded = "payment.refunded.v1";
    public const string OrderShipRequested = "order.ship-requested.v1";
    public const string ShipmentDispatched = "shipment.dispatched.v1";

    /// <summary>All saga topics: the happy path's in the order it meets them, then compensation's, then fulfilment's, then the retiring versions.</summary>
    public static readonly IReadOnlyList<string> All =
    [
        OrderCreated, InventoryReserved, InventoryFailed, InventoryReleased,
        PaymentAuthorized, PaymentFailed, OrderUpdated, InventoryAdjusted,
        OrderCancelRequested, InventorySold, InventoryReturned, PaymentVoided, PaymentRefunded,
        OrderShipRequested, ShipmentDispatched,
        InventoryReservedV1,
    ];

    /// <summary>
    /// The events an order's view is folded from (what the materializer consumes). Listed one by one, so a new
    /// topic becomes an input of the view only when someone decides it should (order.updated is the view's
    /// own output; inventory.adjusted is keyed by SKU, not by order).
    /// </summary>
    public static readonly IReadOnlyList<string> OrderFacts =
    [
        OrderCreated, InventoryReserved, InventoryFailed, InventoryReleased,
        PaymentAuthorized, PaymentFailed,
        OrderCancelRequested, InventorySold, InventoryReturned, PaymentVoided, PaymentRefunded,
        OrderShipRequested, ShipmentDispatched,
        InventoryReservedV1,
    ];

    /// <summary>
    /// Versions on their way out: still consumed (so events written before a rollout settle), no longer produced by
    /// anyone. Each goes, with its subscriptions, once no consumer group has a message of it left (docs/envelope.md).
    /// </summary>
    public static readonly IReadOnlyList<string> Retiring = [InventoryReservedV1];

    /// <summary>The dead-letter topic that takes the messages of <paramref name="topic"/> that can never succeed.</summary>
    public static string DeadLetter(string topic) => topic + ".dlq";

    /// <summary>Every saga topic followed by every dead-letter topic: what a broker must provide.</summary>
    public static IEnumerable<string> AllWithDeadLetters() => All.Concat(All.Select(DeadLetter));
}

/// <summary>
/// The consumer groups of a default deployment (each consuming service's group is its name) and the
/// topics each subscribes to, derived from <see cref="Catalogue"/> (a system test keeps it equal to what
/// each <c>Program.cs</c> subscribes). The checker reports their lag; the embedded cluster never trims a
/// record one of them has not committed past.
/// </summary>
public static class ConsumerGroups
{
    /// <summary>Group name → subscribed topics.</summary>
    public static readonly IReadOnlyDictionary<string, IReadOnlyList<string>> Defaults =
        Catalogue.All.Where(s => s.IsConsumer).ToDictionary(s => s.Name, s => s.Consumes);
}
