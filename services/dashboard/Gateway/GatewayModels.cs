using OrderStream.Contracts;

namespace OrderStream.Dashboard.Gateway;

// The gateway's JSON answers that have no record in OrderStream.Contracts (they are declared next to
// their endpoints in the services); the names and shapes follow services/*/Http and docs/operations.md.

/// <summary>A row of <c>GET /orders</c>.</summary>
public sealed record OrderSummary(Guid OrderId, string Status, string? Reason, string UserId, IReadOnlyList<OrderLine> Items, decimal Amount, string Currency,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? SettledAt);

public sealed record OrderPage(IReadOnlyList<OrderSummary> Items, string? NextCursor);

/// <summary>
/// A <c>POST /orders</c> body. Its lines carry no price: inventory prices every line from its catalogue when it
/// reserves the order (a price sent would be ignored).
/// </summary>
public sealed record PlaceOrderRequest(string UserId, string Currency, IReadOnlyList<OrderItem> Items);

/// <summary>A line of <see cref="PlaceOrderRequest"/>: what and how many.</summary>
public sealed record OrderItem(string Sku, int Qty);

/// <summary>An entry of the product catalogue (<c>GET /products</c>, owned by inventory): what a SKU is charged at.</summary>
public sealed record Product(string Sku, string Name, decimal UnitPrice, string Currency, DateTimeOffset? UpdatedAt);

/// <summary>A <c>PUT /products/{sku}</c> body: the whole entry (a seller's).</summary>
public sealed record ProductChange(string Name, decimal UnitPrice, string Currency);

public sealed record OrderAccepted(Guid OrderId, string Status);

public sealed record StuckOrder(Guid OrderId, string? UserId, DateTimeOffset? CreatedAt, double AgeSeconds, IReadOnlyList<string> Events);

public sealed record StuckOrders(double OlderThanSeconds, int Count, IReadOnlyList<StuckOrder> Orders);

/// <summary>A CONFIRMED order not shipped within the materializer's <c>Fulfilment__ShipWithin</c> (<c>GET /orders/unshipped</c>).</summary>
public sealed record UnshippedOrder(Guid OrderId, string? UserId, DateTimeOffset ConfirmedAt, double AgeSeconds, bool ShipRequested);

public sealed record UnshippedOrders(double OlderThanSeconds, int Count, IReadOnlyList<UnshippedOrder> Orders);

public sealed record StockLevel(string Sku, long Available, long Reserved, long Sold, long Received);

public sealed record StockChange(long? Quantity, long? Level, string? Reason);

public sealed record PaymentSettings(double DeclineRate, int ExtraLatencyMs, string DeclineUserPrefix);

public sealed record PaymentSettingsChange(double? DeclineRate, int? ExtraLatencyMs);

public sealed record ReadOnlyState(bool Enabled, int RetryAfterSeconds);

public sealed record ReadOnlyChange(bool Enabled);

public sealed record FailureInjection(double Rate, string Mode, string? Topic);

public sealed record ConsumerState(bool Paused, FailureInjection Failures, IReadOnlyCollection<string> Topics);

public sealed record FailuresChange(double Rate, string Mode);

public sealed record DeadLetterTopic(string Topic, string OriginalTopic, long Messages, long Redriven, long Waiting);

public sealed record DeadLetterTopics(IReadOnlyList<DeadLetterTopic> Topics);

public sealed record DeadLetterItem(
    string Topic, int Partition, long Offset, DateTimeOffset Timestamp, string? Key, string? EventId, string? EventType,
    string? OriginalTopic, int? OriginalPartition, long? OriginalOffset, string? ConsumerGroup,
    string? ErrorType, string? ErrorMessage, DateTimeOffset? FailedAt, int BodyBytes, string? BodyPreview, DateTimeOffset? RedrivenAt);

public sealed record DeadLetterListing(string Topic, string OriginalTopic, long Messages, long Redriven, long Waiting, IReadOnlyList<DeadLetterItem> Items, bool More);

public sealed record RedriveResult(string Topic, string OriginalTopic, int Published, int AlreadyRedriven);

public sealed record PurgeResult(string Topic, string OriginalTopic, long Purged, bool DeletedOnBroker, string? BrokerError);

public sealed record CancelAccepted(Guid OrderId, string Reason, DateTimeOffset CancelRequestedAt);

/// <summary>The gateway's answer to a ship request (<c>POST /orders/{id}/ship</c>, a seller's), the same for its repeats.</summary>
public sealed record ShipAccepted(Guid OrderId, string RequestedBy, DateTimeOffset ShipRequestedAt);

/// <summary>A vendor whose stock inventory syncs, as <c>GET /admin/inventory/vendors</c> answers it (state: healthy, failing, circuit-open or unknown).</summary>
public sealed record VendorStatus(
    string Name, string BaseUrl, string State, DateTimeOffset? LastSuccessAt, DateTimeOffset? LastAttemptAt, string? LastError,
    int ConsecutiveFailures, int Skus, int SkusSynced, long Shortfall, IReadOnlyList<VendorSkuStatus>? Items);

/// <summary>One SKU a vendor feeds, as its last good sync left it.</summary>
public sealed record VendorSkuStatus(string Sku, string VendorSku, long? Quantity, long? Available, long? Reserved, long Shortfall);

/// <summary>The services the dashboard shows, by their admin path segment; those with a consumer can be paused.</summary>
public static class Services
{
    /// <summary>The saga services of the catalogue, the gateway (the public entry) first.</summary>
    public static readonly IReadOnlyList<string> All =
        [Catalogue.ApiGateway.Key, .. Catalogue.SagaServices.Where(s => s != Catalogue.ApiGateway).Select(s => s.Key)];

    public static readonly IReadOnlyList<string> Consuming = [.. Catalogue.SagaServices.Where(s => s.IsConsumer).Select(s => s.Key)];
}
