using System.Text.Json.Serialization;

namespace OrderStream.Contracts;

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
