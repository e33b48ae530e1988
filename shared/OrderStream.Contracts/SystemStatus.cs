namespace OrderStream.Contracts;

/// <summary>
/// One service's own view of itself: what <c>GET /admin/{service}/status</c> answers. A service with no
/// consumer (the gateway) has <see cref="Consumer"/> null; one with no outbox has <see cref="OutboxDepth"/> null.
/// </summary>
public sealed record ServiceStatus(string Service, bool Ready, ConsumerStatus? Consumer, long? OutboxDepth, DateTimeOffset StartedAt, int ProcessId);

/// <summary>A service's consumer: its group, whether an operator paused it, and its lag (records behind, per topic and in all).</summary>
public sealed record ConsumerStatus(string Group, bool Paused, long Lag, IReadOnlyDictionary<string, long> LagByTopic);

/// <summary>
/// The whole system as the gateway sees it: what <c>GET /admin/system</c> answers. A service that does not
/// answer within a second is listed with <c>Up = false</c> and no details, never as an error of the whole call.
/// </summary>
public sealed record SystemStatus(
    DateTimeOffset At,
    IReadOnlyList<SystemServiceStatus> Services,
    OrderCounts Orders,
    IReadOnlyList<DeadLetterCount> DeadLetters);

/// <summary><see cref="Name"/> is the admin path segment (gateway, inventory, payment, materializer).</summary>
public sealed record SystemServiceStatus(string Name, bool Up, ServiceStatus? Status, string? Error);

/// <summary>
/// Orders still PENDING, and those PENDING for longer than <see cref="StuckAfterSeconds"/>; CONFIRMED orders not shipped within
/// <see cref="ShipWithinSeconds"/> (<c>Fulfilment__ShipWithin</c>, the materializer's setting). Null when the materializer did not answer.
/// </summary>
public sealed record OrderCounts(long? Pending, long? Stuck, int StuckAfterSeconds, long? Unshipped = null, double? ShipWithinSeconds = null);

public sealed record DeadLetterCount(string Topic, string OriginalTopic, long Messages, long Waiting);

/// <summary>What <c>POST /admin/{service}/crash</c> answers, just before the service kills itself (SIGKILL, as <c>kill -9</c>).</summary>
public sealed record CrashAccepted(string Service, int ProcessId);
