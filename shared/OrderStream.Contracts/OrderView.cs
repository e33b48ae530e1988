using System.Text.Json.Serialization;

namespace OrderStream.Contracts;

/// <summary>
/// The order statuses of the view. PENDING moves to one settled status and never back; the only move
/// after that is CONFIRMED → CANCELLED (a refund). FAILED and CANCELLED never change.
/// </summary>
public static class OrderStatus
{
    public const string Pending = "PENDING";
    public const string Confirmed = "CONFIRMED";
    public const string Failed = "FAILED";
    public const string Cancelled = "CANCELLED";

    /// <summary>Settled: the saga has an outcome (polling clients get 200).</summary>
    public static bool IsTerminal(string status) => status is Confirmed or Failed or Cancelled;

    /// <summary>Nothing can change it any more, not even a cancel.</summary>
    public static bool IsFinal(string status) => status is Failed or Cancelled;
}

/// <summary>One saga event as the order's timeline shows it.</summary>
public sealed record TimelineEntry(string Type, Guid EventId, DateTimeOffset OccurredAt);

/// <summary>
/// The materializer's view of an order: what <c>GET /orders/{id}</c> answers and what the Redis cache
/// holds (key <see cref="CacheKey"/>). Fields from <c>order.created</c> are null until that event is seen.
/// </summary>
public sealed record OrderView(
    Guid OrderId,
    string Status,
    string? Reason,
    string? UserId,
    IReadOnlyList<OrderLine>? Items,
    decimal? Amount,
    string? Currency,
    DateTimeOffset? CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? SettledAt,
    IReadOnlyList<TimelineEntry> Timeline)
{
    [JsonIgnore] public bool IsSettled => OrderStatus.IsTerminal(Status);

    public static string CacheKey(Guid orderId) => $"order:{orderId}";
}
