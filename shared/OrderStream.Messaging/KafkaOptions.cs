using System.ComponentModel.DataAnnotations;

namespace OrderStream.Messaging;

/// <summary>Kafka settings, bound from the <c>Kafka</c> section (<c>Kafka__BootstrapServers</c>, ...).</summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    [Required] public string BootstrapServers { get; set; } = "127.0.0.1:9092";

    /// <summary>Consumer group, which is also the consumer's name in the inbox; defaults to the service name.</summary>
    [Required] public string GroupId { get; set; } = "";

    /// <summary>How long a fetch may wait for data. Keep it low against brokers that hold idle fetches for the full wait.</summary>
    [Range(0, 60_000)] public int? FetchWaitMaxMs { get; set; }

    /// <summary>
    /// How long the producer gathers messages per partition before it sends them (librdkafka's default):
    /// fewer, larger produce requests, so less work for the broker on every produce and every fetch.
    /// </summary>
    [Range(0, 1_000)] public int LingerMs { get; set; } = 5;

    /// <summary>How long the producer keeps trying one message before the relay's batch fails and is retried.</summary>
    [Range(1_000, 600_000)] public int MessageTimeoutMs { get; set; } = 30_000;

    /// <summary>
    /// The consumer group protocol: <c>consumer</c> (KIP-848, Kafka 4.x and the embedded cluster: the
    /// broker assigns partitions incrementally, and a restarted member is back in milliseconds) or
    /// <c>classic</c> (brokers before 4.0: a rebalance stops the group, and a member rejoining waits
    /// out about <see cref="SessionTimeoutMs"/>).
    /// </summary>
    public Confluent.Kafka.GroupProtocol GroupProtocol { get; set; } = Confluent.Kafka.GroupProtocol.Consumer;

    /// <summary>The classic protocol's session timeout; with <c>consumer</c> the broker sets it (group.consumer.session.timeout.ms).</summary>
    [Range(3_000, 300_000)] public int SessionTimeoutMs { get; set; } = 10_000;

    /// <summary>
    /// Most messages applied in one database transaction. Whatever is already fetched is taken, up to
    /// this many, so a quiet consumer still handles each message at once and a busy one pays one commit
    /// (and one inbox insert) per batch instead of per message.
    /// </summary>
    [Range(1, 10_000)] public int MaxBatchSize { get; set; } = 256;

    /// <summary>
    /// Transactions a consumer runs side by side. A batch is split by partition number (an order's events
    /// share it in every topic), so one order's events stay in one lane, in order. Keep 1 where orders
    /// contend for shared rows (inventory's stock), or lanes wait on each other's locks.
    /// </summary>
    [Range(1, 64)] public int ConsumerLanes { get; set; } = 1;

    /// <summary>
    /// Start every assigned partition from its beginning instead of the committed offset, so the
    /// consumer receives every retained event again (to rebuild a view, or to audit idempotency: the
    /// inbox turns each already-applied event into a no-op). Applies on every assignment.
    /// </summary>
    public bool ReplayFromStart { get; set; }
}

/// <summary>Outbox relay settings, bound from the <c>Outbox</c> section.</summary>
public sealed class OutboxOptions
{
    public const string Section = "Outbox";

    [Range(1, 10_000)] public int BatchSize { get; set; } = 500;

    /// <summary>Fallback poll for rows whose commit signal this process never saw (other instances, restarts).</summary>
    [Range(10, 60_000)] public int PollIntervalMs { get; set; } = 1_000;
}
