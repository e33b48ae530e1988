using Confluent.Kafka;

namespace OrderStream.EmbeddedKafka;

/// <summary>
/// Deletes the records every consumer group has committed past, as a real broker's retention would
/// delete old segments. The mock brokers keep every record (up to 5 MB a partition), and a fetch that
/// returns data walks the partition's log from its start: without trimming, the broker's CPU per
/// fetch grows with the log for as long as the stack runs (docs/performance.md).
/// </summary>
/// <remarks>
/// A partition is trimmed only up to the lowest offset committed by the groups that subscribe to its
/// topic, and not at all while one of them has committed nothing there (it would start from the log's
/// beginning). The last <c>retain</c> consumed records stay for inspection (kcat, replays).
/// Topics no listed group reads (the dead-letter topics, order.updated) are never trimmed: a dead
/// letter stays until an operator has redriven or purged it.
/// </remarks>
public sealed class ConsumedRecordTrimmer : IDisposable
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);
    private readonly EmbeddedKafkaCluster _cluster;
    private readonly int _retain;
    private readonly Dictionary<string, IConsumer<Ignore, Ignore>> _groups;
    private readonly Dictionary<string, List<string>> _readersByTopic;
    private readonly Dictionary<TopicPartition, long> _trimmedTo = [];
    private readonly int _partitions;

    /// <param name="cluster">The cluster to trim.</param>
    /// <param name="groups">Consumer group → the topics it subscribes to.</param>
    /// <param name="partitions">Partitions per topic.</param>
    /// <param name="retain">Consumed records kept at the end of each partition's consumed range.</param>
    public ConsumedRecordTrimmer(EmbeddedKafkaCluster cluster, IReadOnlyDictionary<string, IReadOnlyList<string>> groups, int partitions, int retain)
    {
        (_cluster, _partitions, _retain) = (cluster, partitions, retain);
        // A consumer with the group's id that never subscribes does not join the group; it only fetches its offsets.
        _groups = groups.Keys.ToDictionary(g => g, g => new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers, GroupId = g, EnableAutoCommit = false,
        }).Build());
        _readersByTopic = groups.SelectMany(g => g.Value.Select(t => (Topic: t, Group: g.Key)))
            .GroupBy(x => x.Topic).ToDictionary(x => x.Key, x => x.Select(y => y.Group).ToList());
    }

    /// <summary>One pass over every read topic. Returns how many records it deleted.</summary>
    public long TrimOnce()
    {
        var partitions = _readersByTopic.Keys.SelectMany(t => Enumerable.Range(0, _partitions).Select(p => new TopicPartition(t, p))).ToList();
        var committed = _groups.ToDictionary(g => g.Key, g => g.Value.Committed(partitions, RequestTimeout).ToDictionary(c => c.TopicPartition, c => c.Offset.Value));
        long deleted = 0;
        foreach (var tp in partitions)
        {
            var offsets = _readersByTopic[tp.Topic].Select(g => committed[g].GetValueOrDefault(tp, Offset.Unset.Value)).ToList();
            if (offsets.Any(o => o < 0)) continue; // a reader has committed nothing here yet
            var before = offsets.Min() - _retain;
            var already = _trimmedTo.GetValueOrDefault(tp);
            if (before <= already) continue;
            _cluster.DeleteRecords(tp.Topic, tp.Partition.Value, before);
            _trimmedTo[tp] = before;
            deleted += before - already;
        }
        return deleted;
    }

    public void Dispose()
    {
        foreach (var consumer in _groups.Values) consumer.Dispose();
    }
}
