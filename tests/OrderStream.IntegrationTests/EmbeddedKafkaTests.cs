using Confluent.Kafka;
using OrderStream.EmbeddedKafka;

namespace OrderStream.IntegrationTests;

/// <summary>The embedded cluster that stands in for Kafka here must not be slower than a broker in ways a broker is not.</summary>
public sealed class EmbeddedKafkaTests
{
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
}
