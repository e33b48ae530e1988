using System.Runtime.InteropServices;
using System.Text;

namespace OrderStream.EmbeddedKafka;

/// <summary>
/// librdkafka's mock cluster: in-memory brokers that speak the real Kafka protocol on 127.0.0.1, for
/// machines without a Kafka broker. Only local tooling and tests use this; services just get a
/// bootstrap address. Data lives in this process's memory and is gone when it exits.
/// </summary>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    private IntPtr _handle;
    private IntPtr _cluster;

    public string BootstrapServers { get; }
    public int Brokers { get; }

    public EmbeddedKafkaCluster(int brokers = 1)
    {
        // The cluster needs an rd_kafka_t to hang off; a bare producer handle with no brokers serves.
        // No AdminClient is involved, so nothing polls (and burns a core) while the cluster idles.
        var conf = Native.rd_kafka_conf_new();
        var error = new StringBuilder(512);
        Native.rd_kafka_conf_set(conf, "log_level", "3", error, error.Capacity);
        _handle = Native.rd_kafka_new(0, conf, error, error.Capacity);
        if (_handle == IntPtr.Zero) throw new InvalidOperationException($"rd_kafka_new failed: {error}");
        _cluster = Native.rd_kafka_mock_cluster_new(_handle, brokers);
        if (_cluster == IntPtr.Zero) throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        Brokers = brokers;
        BootstrapServers = Marshal.PtrToStringAnsi(Native.rd_kafka_mock_cluster_bootstraps(_cluster))!;
    }

    /// <summary>Creates a topic with a chosen partition count (the mock cluster does not serve CreateTopics requests).</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        var err = Native.rd_kafka_mock_topic_create(_cluster, topic, partitions, Math.Min(replicationFactor, Brokers));
        if (err != 0) throw new InvalidOperationException($"Creating topic {topic} failed: {Marshal.PtrToStringAnsi(Native.rd_kafka_err2str(err))}");
    }

    /// <summary>Takes broker <paramref name="brokerId"/> (1-based) down, as in an outage.</summary>
    public void SetBrokerDown(int brokerId) => Native.rd_kafka_mock_broker_set_down(_cluster, brokerId);

    public void SetBrokerUp(int brokerId) => Native.rd_kafka_mock_broker_set_up(_cluster, brokerId);

    public void Dispose()
    {
        if (_cluster != IntPtr.Zero) Native.rd_kafka_mock_cluster_destroy(_cluster);
        if (_handle != IntPtr.Zero) Native.rd_kafka_destroy(_handle);
        _cluster = _handle = IntPtr.Zero;
    }

    private static class Native
    {
        private const string Lib = "librdkafka.so.1";

        [DllImport(Lib)] public static extern IntPtr rd_kafka_conf_new();
        [DllImport(Lib)] public static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, StringBuilder errstr, nint errstrSize);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_new(int type, IntPtr conf, StringBuilder errstr, nint errstrSize);
        [DllImport(Lib)] public static extern void rd_kafka_destroy(IntPtr rk);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_err2str(int err);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);
        [DllImport(Lib)] public static extern void rd_kafka_mock_cluster_destroy(IntPtr cluster);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);
        [DllImport(Lib)] public static extern int rd_kafka_mock_topic_create(IntPtr cluster, string topic, int partitions, int replicationFactor);
        [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_down(IntPtr cluster, int brokerId);
        [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_up(IntPtr cluster, int brokerId);
    }
}
