using System.Text;
using Confluent.Kafka;
using OrderStream.Contracts;
using OrderStream.Messaging;

namespace OrderStream.Checker;

/// <summary>Messages on one topic now: the sum over its partitions of high minus low watermark.</summary>
public sealed record TopicState(string Topic, int Partitions, long Messages);

/// <summary>How far <paramref name="Group"/>'s committed offsets are behind the end of <paramref name="Topic"/>, summed over partitions.</summary>
public sealed record GroupLag(string Group, string Topic, long Lag);

/// <summary>A message on a <c>&lt;topic&gt;.dlq</c> topic, with every header (the original ones and the <c>dlq-*</c> ones).</summary>
public sealed record DeadLetter(string Topic, int Partition, long Offset, string? Key, DateTimeOffset Timestamp, IReadOnlyDictionary<string, string> Headers)
{
    public string? OriginalTopic => Headers.GetValueOrDefault(DeadLetterHeaders.OriginalTopic);
    public string? OriginalPartition => Headers.GetValueOrDefault(DeadLetterHeaders.OriginalPartition);
    public string? OriginalOffset => Headers.GetValueOrDefault(DeadLetterHeaders.OriginalOffset);
    public string? ConsumerGroup => Headers.GetValueOrDefault(DeadLetterHeaders.ConsumerGroup);
    public string? ErrorType => Headers.GetValueOrDefault(DeadLetterHeaders.ErrorType);
    public string? ErrorMessage => Headers.GetValueOrDefault(DeadLetterHeaders.ErrorMessage);

    /// <summary>It says where it came from and why it failed, so an operator can find, judge and redrive it.</summary>
    public bool AccountedFor =>
        !string.IsNullOrEmpty(OriginalTopic) && int.TryParse(OriginalPartition, out _) && long.TryParse(OriginalOffset, out _) &&
        !string.IsNullOrEmpty(ErrorMessage);
}

/// <summary>What the checker read from Kafka.</summary>
public sealed record KafkaState(IReadOnlyList<TopicState> Topics, IReadOnlyList<GroupLag> Lags, IReadOnlyList<DeadLetter> DeadLetters);

/// <summary>
/// Reads topic sizes, consumer-group lag (committed offsets against high watermarks, no group join)
/// and every dead letter. Only ordinary client requests: metadata, ListOffsets, OffsetFetch, Fetch.
/// </summary>
public static class KafkaInspector
{
    // The checker is also a library (the load tool, tests): its first client may come before anything
    // else of Messaging runs, and so before the packaged librdkafka is chosen.
    static KafkaInspector() => KafkaNativeLibrary.Use();

    public static KafkaState Read(CheckOptions options)
    {
        using var reader = Consumer(options, "orderstream-checker-" + Guid.NewGuid().ToString("N"));
        var partitions = PartitionCounts(reader, options.KafkaTimeout);
        var watermarks = new Dictionary<string, List<(TopicPartition Tp, WatermarkOffsets W)>>();
        foreach (var topic in Topics.AllWithDeadLetters().Where(partitions.ContainsKey))
            watermarks[topic] = Enumerable.Range(0, partitions[topic])
                .Select(p => new TopicPartition(topic, p))
                .Select(tp => (tp, reader.QueryWatermarkOffsets(tp, options.KafkaTimeout)))
                .ToList();

        var topicStates = Topics.All.Where(watermarks.ContainsKey)
            .Select(t => new TopicState(t, partitions[t], watermarks[t].Sum(x => x.W.High.Value - x.W.Low.Value)))
            .ToList();
        var lags = Lags(options, watermarks);
        var deadLetters = Topics.All.Select(Topics.DeadLetter).Where(watermarks.ContainsKey)
            .SelectMany(dlq => ReadAll(reader, watermarks[dlq], options.KafkaTimeout))
            .ToList();
        return new KafkaState(topicStates, lags, deadLetters);
    }

    /// <summary>Lag of every configured group on each of its topics; a topic the broker does not have counts as empty.</summary>
    public static IReadOnlyList<GroupLag> Lags(CheckOptions options)
    {
        using var reader = Consumer(options, "orderstream-checker-" + Guid.NewGuid().ToString("N"));
        var partitions = PartitionCounts(reader, options.KafkaTimeout);
        var watermarks = options.ConsumerGroups.SelectMany(g => g.Topics).Distinct().Where(partitions.ContainsKey)
            .ToDictionary(t => t, t => Enumerable.Range(0, partitions[t]).Select(p => new TopicPartition(t, p))
                .Select(tp => (tp, reader.QueryWatermarkOffsets(tp, options.KafkaTimeout))).ToList());
        return Lags(options, watermarks);
    }

    private static List<GroupLag> Lags(CheckOptions options, Dictionary<string, List<(TopicPartition Tp, WatermarkOffsets W)>> watermarks)
    {
        var lags = new List<GroupLag>();
        foreach (var group in options.ConsumerGroups)
        {
            // A consumer with the group's id that never subscribes does not join the group; it only fetches its offsets.
            using var consumer = Consumer(options, group.Name);
            foreach (var topic in group.Topics.Where(watermarks.ContainsKey))
            {
                var ends = watermarks[topic];
                var committed = consumer.Committed(ends.Select(e => e.Tp), options.KafkaTimeout).ToDictionary(c => c.TopicPartition, c => c.Offset.Value);
                // No committed offset: the group starts at the low watermark (auto.offset.reset=earliest), so all of it is lag.
                var lag = ends.Sum(e => e.W.High.Value - Math.Max(e.W.Low.Value, committed.GetValueOrDefault(e.Tp, -1)));
                lags.Add(new GroupLag(group.Name, topic, Math.Max(0, lag)));
            }
        }
        return lags;
    }

    private static IConsumer<byte[]?, byte[]?> Consumer(CheckOptions options, string groupId) =>
        new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = options.KafkaBootstrapServers,
            GroupId = groupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            FetchWaitMaxMs = 10,
        }).Build();

    private static Dictionary<string, int> PartitionCounts(IConsumer<byte[]?, byte[]?> consumer, TimeSpan timeout)
    {
        // A dependent admin client shares the consumer's connections; it is disposed at once (an idle one polls).
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        return admin.GetMetadata(timeout).Topics
            .Where(t => t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0)
            .ToDictionary(t => t.Topic, t => t.Partitions.Count, StringComparer.Ordinal);
    }

    /// <summary>Every message between the low and high watermark of each partition, read without a group.</summary>
    private static List<DeadLetter> ReadAll(IConsumer<byte[]?, byte[]?> consumer, List<(TopicPartition Tp, WatermarkOffsets W)> ends, TimeSpan timeout)
    {
        var remaining = ends.Where(e => e.W.High.Value > e.W.Low.Value).ToDictionary(e => e.Tp.Partition.Value, e => e.W.High.Value);
        var letters = new List<DeadLetter>();
        if (remaining.Count == 0) return letters;
        consumer.Assign(ends.Where(e => remaining.ContainsKey(e.Tp.Partition.Value)).Select(e => new TopicPartitionOffset(e.Tp, e.W.Low)));
        var deadline = DateTime.UtcNow + timeout;
        try
        {
            while (remaining.Count > 0)
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"Reading {ends[0].Tp.Topic}: partitions {string.Join(", ", remaining.Keys)} not read to their end within {timeout.TotalSeconds:0} s");
                var m = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (m is null || m.IsPartitionEOF) continue;
                var headers = (m.Message.Headers ?? []).GroupBy(h => h.Key)
                    .ToDictionary(g => g.Key, g => Encoding.UTF8.GetString(g.Last().GetValueBytes()), StringComparer.Ordinal);
                letters.Add(new DeadLetter(m.Topic, m.Partition.Value, m.Offset.Value,
                    m.Message.Key is { } k ? Encoding.UTF8.GetString(k) : null, m.Message.Timestamp.UtcDateTime, headers));
                if (m.Offset.Value + 1 >= remaining.GetValueOrDefault(m.Partition.Value, long.MaxValue)) remaining.Remove(m.Partition.Value);
            }
        }
        finally
        {
            consumer.Unassign();
        }
        return letters;
    }
}
