using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Microsoft.Extensions.Options;

namespace OrderStream.Messaging.DeadLetters;

/// <summary>
/// What the dead-letter admin asks of Kafka: watermarks, reading a partition range, republishing a dead
/// letter to the topic it came from, and DeleteRecords. Reads use a short-lived consumer with no group
/// (nothing is committed, no consuming service's group is touched); writes use the service's one
/// idempotent producer (acks=all), the outbox relay's.
/// </summary>
public sealed class DeadLetterKafka(KafkaProducer producer, IOptions<KafkaOptions> options)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public Reader OpenReader() => new(options.Value);

    /// <summary>
    /// Publishes the dead letter's original message again, to <paramref name="topic"/>: same key (so the
    /// same partition and per-order ordering as the relay's), same value, and the original headers without
    /// the <c>dlq-*</c> ones. The event id is unchanged, so each consumer's inbox applies it at most once.
    /// Completes when the broker has acknowledged it.
    /// </summary>
    public async Task RepublishAsync(string topic, DeadLetter letter, CancellationToken ct)
    {
        var headers = new Headers();
        foreach (var header in letter.Message.Headers ?? [])
            if (!header.Key.StartsWith("dlq-", StringComparison.Ordinal)) headers.Add(header.Key, header.GetValueBytes());
        var message = new Message<byte[]?, byte[]?> { Key = letter.Message.Key, Value = letter.Message.Value, Headers = headers };
        try { await producer.Current.ProduceAsync(topic, message, ct); }
        catch (Exception ex)
        {
            producer.ReplaceIfFatal(ex);
            throw;
        }
    }

    /// <summary>Deletes every record below the given offsets. Returns null on success, else the broker's reason.</summary>
    public async Task<string?> DeleteRecordsAsync(string topic, IEnumerable<(int Partition, long Before)> offsets)
    {
        var targets = offsets.Select(o => new TopicPartitionOffset(topic, o.Partition, o.Before)).ToList();
        if (targets.Count == 0) return null;
        // A dependent admin client shares the producer's connections; it is disposed at once (an idle one polls).
        using var admin = new DependentAdminClientBuilder(producer.Current.Handle).Build();
        try
        {
            await admin.DeleteRecordsAsync(targets, new DeleteRecordsOptions { RequestTimeout = Timeout, OperationTimeout = Timeout });
            return null;
        }
        catch (DeleteRecordsException ex)
        {
            return string.Join("; ", ex.Results.Where(r => r.Error.IsError).Select(r => $"[{r.Partition.Value}] {r.Error.Reason}").Distinct());
        }
    }

    /// <summary>A consumer with no group, for one request.</summary>
    public sealed class Reader : IDisposable
    {
        private readonly IConsumer<byte[]?, byte[]?> _consumer;

        internal Reader(KafkaOptions options)
        {
            _consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
            {
                BootstrapServers = options.BootstrapServers,
                // Required by the client; never joined or committed, since partitions are assigned by hand.
                GroupId = options.GroupId + ".dead-letter-admin",
                EnableAutoCommit = false,
                EnableAutoOffsetStore = false,
                EnablePartitionEof = true,
                AutoOffsetReset = AutoOffsetReset.Earliest,
                FetchWaitMaxMs = options.FetchWaitMaxMs,
            }).Build();
        }

        /// <summary>Each partition's readable range; empty when the topic does not exist.</summary>
        public IReadOnlyList<PartitionRange> Ranges(string topic)
        {
            int partitions;
            // A dependent admin client shares the consumer's connections; it is disposed at once (an idle one polls).
            using (var admin = new DependentAdminClientBuilder(_consumer.Handle).Build())
            {
                var metadata = admin.GetMetadata(topic, Timeout).Topics.SingleOrDefault(t => t.Topic == topic);
                partitions = metadata is { Error.Code: ErrorCode.NoError } ? metadata.Partitions.Count : 0;
            }
            return Enumerable.Range(0, partitions).Select(p =>
            {
                var w = _consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), Timeout);
                return new PartitionRange(p, w.Low.Value, w.High.Value);
            }).ToList();
        }

        /// <summary>
        /// The messages of one partition from <paramref name="from"/> up to, not including,
        /// <paramref name="to"/>, in order. Lazy: the caller stops reading by stopping the enumeration.
        /// </summary>
        public IEnumerable<DeadLetter> Read(string topic, int partition, long from, long to, CancellationToken ct)
        {
            if (from >= to) yield break;
            _consumer.Assign(new TopicPartitionOffset(topic, partition, from));
            try
            {
                var stalledSince = DateTime.UtcNow;
                while (true)
                {
                    ct.ThrowIfCancellationRequested();
                    var m = _consumer.Consume(TimeSpan.FromMilliseconds(200));
                    if (m is null)
                    {
                        if (DateTime.UtcNow - stalledSince > Timeout)
                            throw new TimeoutException($"Reading {topic} [{partition}] stalled at offset {from} for {Timeout.TotalSeconds:0} s");
                        continue;
                    }
                    if (m.IsPartitionEOF) yield break; // the end came before 'to' (offsets need not be contiguous)
                    stalledSince = DateTime.UtcNow;
                    from = m.Offset.Value + 1;
                    yield return new DeadLetter(m.Topic, m.Partition.Value, m.Offset.Value, m.Message.Timestamp.UtcDateTime, m.Message);
                    if (from >= to) yield break;
                }
            }
            finally
            {
                _consumer.Unassign();
            }
        }

        public void Dispose()
        {
            _consumer.Close();
            _consumer.Dispose();
        }
    }
}
