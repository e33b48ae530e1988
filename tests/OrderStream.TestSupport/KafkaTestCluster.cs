using System.Text;
using Confluent.Kafka;
using OrderStream.Contracts;
using OrderStream.EmbeddedKafka;
using OrderStream.Messaging;

namespace OrderStream.TestSupport;

/// <summary>
/// A Kafka cluster for one test class: a fresh embedded cluster (real protocol, in memory) with every
/// saga and dead-letter topic, or, when ORDERSTREAM_TEST_KAFKA names bootstrap servers, that broker.
/// Also the raw client the tests use to inject and read messages.
/// </summary>
public sealed class KafkaTestCluster : IDisposable
{
    public const int Partitions = 4;
    private readonly EmbeddedKafkaCluster? _embedded;
    private readonly Lazy<IProducer<byte[]?, byte[]?>> _producer;

    public string BootstrapServers { get; }

    public KafkaTestCluster()
    {
        var external = Environment.GetEnvironmentVariable("ORDERSTREAM_TEST_KAFKA");
        if (!string.IsNullOrWhiteSpace(external)) BootstrapServers = external;
        else
        {
            _embedded = new EmbeddedKafkaCluster();
            foreach (var topic in Topics.AllWithDeadLetters()) _embedded.CreateTopic(topic, Partitions);
            BootstrapServers = _embedded.BootstrapServers;
        }
        _producer = new(() => new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = BootstrapServers, EnableIdempotence = true, Acks = Acks.All }).Build());
    }

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

    public void SetBrokerDown() => _embedded?.SetBrokerDown(1);
    public void SetBrokerUp() => _embedded?.SetBrokerUp(1);

    public void Dispose()
    {
        if (_producer.IsValueCreated) _producer.Value.Dispose();
        _embedded?.Dispose();
    }
}
