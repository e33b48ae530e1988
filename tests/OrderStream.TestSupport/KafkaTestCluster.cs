using System.Text;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using OrderStream.Contracts;
using OrderStream.EmbeddedKafka;
using OrderStream.Messaging;
using Testcontainers.Kafka;

namespace OrderStream.TestSupport;

/// <summary>
/// A Kafka cluster for one test class with every saga and dead-letter topic: a fresh embedded cluster (real
/// protocol, in memory) or an Apache Kafka container (see <see cref="TestInfra"/>). Also the raw client the
/// tests use to inject and read messages.
/// </summary>
public abstract class KafkaTestCluster : IDisposable
{
    public const int Partitions = 4;
    private readonly Lazy<IProducer<byte[]?, byte[]?>> _producer;

    protected KafkaTestCluster() =>
        _producer = new(() => new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = BootstrapServers, EnableIdempotence = true, Acks = Acks.All }).Build());

    public static KafkaTestCluster Start() => TestInfra.Mode switch
    {
        TestInfraMode.Containers => new KafkaContainerCluster(),
        _ => new EmbeddedKafkaTestCluster(),
    };

    /// <summary>The topics every cluster starts with, in both modes.</summary>
    public static IReadOnlyList<TopicSpecification> TopicSpecifications { get; } =
        [.. Topics.AllWithDeadLetters().Select(t => new TopicSpecification { Name = t, NumPartitions = Partitions, ReplicationFactor = 1 })];

    public abstract string BootstrapServers { get; }

    /// <summary>Takes the broker away with its data kept, as an outage; <see cref="SetBrokerUp"/> brings it back.</summary>
    public abstract void SetBrokerDown();

    public abstract void SetBrokerUp();

    /// <summary>Produces an event exactly as a relay would (envelope, key and headers).</summary>
    public Task<DeliveryResult<byte[]?, byte[]?>> ProduceEventAsync<TEvent>(TEvent evt, Guid? eventId = null) where TEvent : IEvent
    {
        var id = eventId ?? Guid.CreateVersion7();
        var body = Outbox.Serialize(OutgoingEvent.For(evt), id, null, DateTimeOffset.UtcNow);
        return ProduceRawAsync(TEvent.Topic, evt.OrderId.ToString(), body, new() { [Contracts.Headers.EventType] = TEvent.Topic, [Contracts.Headers.EventId] = id.ToString() });
    }

    public Task<DeliveryResult<byte[]?, byte[]?>> ProduceRawAsync(string topic, string? key, byte[]? value, Dictionary<string, string>? headers = null, int? partition = null)
    {
        var message = new Message<byte[]?, byte[]?> { Key = key is null ? null : Encoding.UTF8.GetBytes(key), Value = value, Headers = [] };
        foreach (var (k, v) in headers ?? []) message.Headers.Add(k, Encoding.UTF8.GetBytes(v));
        return partition is { } p
            ? _producer.Value.ProduceAsync(new TopicPartition(topic, p), message)
            : _producer.Value.ProduceAsync(topic, message);
    }

    /// <summary>Every message currently on <paramref name="topic"/>, read from the start of each partition.</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = BootstrapServers, GroupId = "test-reader-" + Guid.NewGuid(), EnableAutoCommit = false, FetchWaitMaxMs = 5,
        }).Build();
        var result = new List<ConsumeResult<byte[]?, byte[]?>>();
        var metadata = HighWatermarks(consumer, topic);
        consumer.Assign(metadata.Where(m => m.High > 0).Select(m => new TopicPartitionOffset(m.Partition, Offset.Beginning)));
        var remaining = metadata.Sum(m => m.High);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (remaining > 0 && DateTime.UtcNow < deadline)
        {
            var message = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (message is null || message.IsPartitionEOF) continue;
            result.Add(message);
            remaining--;
        }
        return result;
    }

    /// <summary>Committed offset of <paramref name="group"/> behind the end of <paramref name="topic"/>, summed over partitions.</summary>
    public long Lag(string group, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = group, EnableAutoCommit = false }).Build();
        var ends = HighWatermarks(consumer, topic);
        var committed = consumer.Committed(ends.Select(e => e.Partition), TimeSpan.FromSeconds(10));
        return ends.Sum(e => e.High - Math.Max(0, committed.Single(c => c.TopicPartition == e.Partition).Offset.Value));
    }

    /// <summary>How many messages <paramref name="topic"/> holds (its partitions' end offsets, summed).</summary>
    public long MessageCount(string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = BootstrapServers, GroupId = "test-counter" }).Build();
        return HighWatermarks(consumer, topic).Sum(h => h.High);
    }

    private List<(TopicPartition Partition, long High)> HighWatermarks(IConsumer<byte[]?, byte[]?> consumer, string topic) =>
        Enumerable.Range(0, PartitionCount(topic))
            .Select(p => new TopicPartition(topic, p))
            .Select(tp => (tp, consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value))
            .ToList();

    private int PartitionCount(string topic)
    {
        using var admin = new DependentAdminClientBuilder(_producer.Value.Handle).Build();
        return admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics[0].Partitions.Count;
    }

    public void Dispose()
    {
        if (_producer.IsValueCreated) _producer.Value.Dispose();
        Release();
    }

    protected abstract void Release();
}

public sealed class EmbeddedKafkaTestCluster : KafkaTestCluster
{
    private readonly EmbeddedKafkaCluster _cluster = new();

    public EmbeddedKafkaTestCluster()
    {
        // The mock cluster does not take CreateTopics requests; it creates topics through its own call.
        foreach (var topic in TopicSpecifications) _cluster.CreateTopic(topic.Name, topic.NumPartitions, topic.ReplicationFactor);
    }

    public override string BootstrapServers => _cluster.BootstrapServers;
    public override void SetBrokerDown() => _cluster.SetBrokerDown(1);
    public override void SetBrokerUp() => _cluster.SetBrokerUp(1);
    protected override void Release() => _cluster.Dispose();
}

/// <summary>One Apache Kafka broker (KRaft) in a container of docker-compose's image.</summary>
public sealed class KafkaContainerCluster : KafkaTestCluster
{
    private readonly KafkaContainer _container;

    public override string BootstrapServers { get; }

    public KafkaContainerCluster()
    {
        _container = TestInfra.Start(() => Builder().Build());
        // The address the container advertises (its PLAINTEXT listener on the mapped port), as host:port.
        BootstrapServers = $"{_container.Hostname}:{_container.GetMappedPublicPort(KafkaBuilder.KafkaPort)}";
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = BootstrapServers }).Build();
        admin.CreateTopicsAsync(TopicSpecifications).GetAwaiter().GetResult();
    }

    /// <summary>The container as configured (building it needs Docker; the configuration does not).</summary>
    public static KafkaBuilder Builder() =>
        new KafkaBuilder(ContainerImages.Kafka)
            // As in docker-compose: only the topics created above exist; a misspelt one is an error, not a new topic.
            .WithEnvironment("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
            // A member that dies without leaving (a killed service) keeps its partitions for the session
            // timeout: 10 s, as on the embedded cluster and in compose (Kafka's default is 45 s).
            .WithEnvironment("KAFKA_GROUP_CONSUMER_MIN_SESSION_TIMEOUT_MS", "10000")
            .WithEnvironment("KAFKA_GROUP_CONSUMER_SESSION_TIMEOUT_MS", "10000");

    // Paused, not stopped: a restarted container gets a new host port, while the services were given this
    // one and the broker advertises it. A paused broker answers nothing, so clients time out (the readiness
    // check after 2 s) where the embedded one refuses connections; either way it is down and keeps its data.
    public override void SetBrokerDown() => _container.PauseAsync().GetAwaiter().GetResult();
    public override void SetBrokerUp() => _container.UnpauseAsync().GetAwaiter().GetResult();
    protected override void Release() => _container.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
