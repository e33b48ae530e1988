using System.Diagnostics;
using Confluent.Kafka;
using OrderStream.EmbeddedKafka;
using OrderStream.Messaging;

namespace OrderStream.IntegrationTests;

/// <summary>The embedded cluster that stands in for Kafka here must not be slower than a broker in ways a broker is not.</summary>
public sealed class EmbeddedKafkaTests
{
    [Fact]
    public void The_process_maps_the_packaged_librdkafka_and_no_other()
    {
        using var cluster = new EmbeddedKafkaCluster();
        Assert.Equal("2.16.0", Library.VersionString);
        Assert.NotNull(KafkaNativeLibrary.PackagedPath);
        var mapped = File.ReadLines("/proc/self/maps").Where(l => l.Contains("rdkafka")).Select(l => l[(l.IndexOf('/'))..]).Distinct().ToList();
        Assert.Equal([KafkaNativeLibrary.PackagedPath], mapped);
    }

    [Fact]
    public async Task The_brokers_connections_have_Nagle_off_as_a_real_brokers_do()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("nagle", 3);
        using var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, EnableIdempotence = true, Acks = Acks.All }).Build();
        // Ten keys over three partitions: several requests in flight on one connection, as a relay batch sends.
        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => producer.ProduceAsync("nagle", new Message<string, string> { Key = $"order-{i}", Value = "v" })));

        // Delivered, so the producer's connection is open: the broker's end of it is in this process
        // (found through /proc, so on Linux only, as the setting itself).
        var accepted = ProcessSockets.Accepted(cluster.BrokerPorts).ToList();
        Assert.NotEmpty(accepted);
        Assert.All(accepted, fd => Assert.True(ProcessSockets.NoDelay(fd), $"broker connection (fd {fd}) has Nagle's algorithm on"));
    }

    [Fact]
    public void Trimming_deletes_only_what_every_reading_group_has_committed_past()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("trim.read", 1);
        cluster.CreateTopic("trim.read-by-one", 1);
        cluster.CreateTopic("trim.read.dlq", 1);
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 5 }).Build();
        foreach (var topic in new[] { "trim.read", "trim.read-by-one", "trim.read.dlq" })
        {
            for (var i = 0; i < 1_000; i++) producer.Produce(topic, new Message<Null, string> { Value = "v" });
        }
        producer.Flush(TimeSpan.FromSeconds(10));
        Commit(cluster, "group-a", "trim.read", 600);
        Commit(cluster, "group-b", "trim.read", 400);
        Commit(cluster, "group-a", "trim.read-by-one", 900); // group-b reads it too, and has committed nothing there

        var groups = new Dictionary<string, IReadOnlyList<string>> { ["group-a"] = ["trim.read", "trim.read-by-one"], ["group-b"] = ["trim.read", "trim.read-by-one"] };
        using var trimmer = new ConsumedRecordTrimmer(cluster, groups, partitions: 1, retain: 100);
        Assert.Equal(300, trimmer.TrimOnce());
        Assert.Equal(0, trimmer.TrimOnce()); // nothing new committed

        Assert.Equal(300, LogStart(cluster, "trim.read"));            // the lowest group's offset (400) less the 100 kept
        Assert.Equal(0, LogStart(cluster, "trim.read-by-one"));      // a reader has not committed there
        Assert.Equal(0, LogStart(cluster, "trim.read.dlq"));         // no group reads it: dead letters stay

        Commit(cluster, "group-b", "trim.read", 1_000);
        Assert.Equal(200, trimmer.TrimOnce());
        Assert.Equal(500, LogStart(cluster, "trim.read"));
        // What is left is still readable from the new start.
        Assert.Equal(500, CountFromStart(cluster, "trim.read"));
    }

    [Fact]
    public void A_consumer_restarted_with_the_KIP_848_protocol_gets_its_partitions_back_in_well_under_a_session_timeout()
    {
        using var cluster = new EmbeddedKafkaCluster();
        cluster.CreateTopic("rejoin", 2);
        var config = new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "rejoin", GroupProtocol = GroupProtocol.Consumer, FetchWaitMaxMs = 5 };
        using (var first = new ConsumerBuilder<Ignore, Ignore>(config).Build())
        {
            first.Subscribe("rejoin");
            WaitForAssignment(first, TimeSpan.FromSeconds(30));
            first.Close(); // leaves the group, as a service does on shutdown
        }

        using var second = new ConsumerBuilder<Ignore, Ignore>(config).Build();
        second.Subscribe("rejoin");
        var rejoined = WaitForAssignment(second, TimeSpan.FromSeconds(30));
        // The classic protocol's rejoin waits about the session timeout (10 s here, 45 s by default).
        Assert.True(rejoined < TimeSpan.FromSeconds(3), $"rejoined after {rejoined.TotalMilliseconds:0} ms");
        second.Close();
    }

    private static TimeSpan WaitForAssignment(IConsumer<Ignore, Ignore> consumer, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (consumer.Assignment.Count < 2)
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"no full assignment after {timeout}");
            consumer.Consume(TimeSpan.FromMilliseconds(10));
        }
        return clock.Elapsed;
    }

    private static void Commit(EmbeddedKafkaCluster cluster, string group, string topic, long offset)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = group, EnableAutoCommit = false }).Build();
        consumer.Commit([new TopicPartitionOffset(topic, 0, offset)]);
    }

    private static long LogStart(EmbeddedKafkaCluster cluster, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "watermarks" }).Build();
        return consumer.QueryWatermarkOffsets(new TopicPartition(topic, 0), TimeSpan.FromSeconds(10)).Low.Value;
    }

    private static int CountFromStart(EmbeddedKafkaCluster cluster, string topic)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = cluster.BootstrapServers, GroupId = "count-" + Guid.NewGuid(), EnableAutoCommit = false, FetchWaitMaxMs = 5 }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var count = 0;
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { } message) continue;
            count++;
            if (message.Offset.Value == 999) break;
        }
        return count;
    }
}
