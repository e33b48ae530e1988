using System.Runtime.InteropServices;
using System.Text;
using OrderStream.Messaging;

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

    // The same packaged librdkafka as the clients in this process and in the services.
    static EmbeddedKafkaCluster() => KafkaNativeLibrary.ResolveFor(typeof(EmbeddedKafkaCluster).Assembly);

    public string BootstrapServers { get; }
    public int Brokers { get; }

    /// <param name="brokers">How many brokers.</param>
    /// <param name="consumerSessionTimeoutMs">
    /// How long a member of a KIP-848 consumer group keeps its partitions without a heartbeat (after a
    /// kill -9). A real broker's is group.consumer.session.timeout.ms (45 s by default); the mock's 30 s.
    /// </param>
    public EmbeddedKafkaCluster(int brokers = 1, int consumerSessionTimeoutMs = 10_000)
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
        Native.rd_kafka_mock_set_group_consumer_session_timeout_ms(_cluster, consumerSessionTimeoutMs);
        Brokers = brokers;
        BootstrapServers = Marshal.PtrToStringAnsi(Native.rd_kafka_mock_cluster_bootstraps(_cluster))!;
        DisableNagleOnListeners();
    }

    /// <summary>
    /// A real broker turns Nagle's algorithm off on its connections (Kafka's SocketServer sets
    /// TCP_NODELAY); the mock brokers leave it on. With it on, a producer's pipelined requests (one per
    /// partition) got their responses about 40 ms late: the broker held each small response back until
    /// the client had acknowledged the previous one, and the client delays that acknowledgement by up
    /// to 40 ms. Every relay batch that spans partitions paid it (measured: 44 ms for ten messages on
    /// three partitions, 1.5 ms with the option set). Accepted connections inherit the option from
    /// their listening socket on Linux, so it is set once on each broker's listener, found among this
    /// process's sockets by its port. Elsewhere (no /proc) the brokers keep their default.
    /// </summary>
    private void DisableNagleOnListeners()
    {
        foreach (var fd in ProcessSockets.Listening(BrokerPorts)) ProcessSockets.SetNoDelay(fd);
    }

    /// <summary>The brokers' ports on 127.0.0.1, from the bootstrap list.</summary>
    public IReadOnlySet<int> BrokerPorts => BootstrapServers.Split(',').Select(b => int.Parse(b[(b.LastIndexOf(':') + 1)..])).ToHashSet();

    /// <summary>Creates a topic with a chosen partition count (the mock cluster does not serve CreateTopics requests).</summary>
    public void CreateTopic(string topic, int partitions, int replicationFactor = 1)
    {
        var err = Native.rd_kafka_mock_topic_create(_cluster, topic, partitions, Math.Min(replicationFactor, Brokers));
        if (err != 0) throw new InvalidOperationException($"Creating topic {topic} failed: {Marshal.PtrToStringAnsi(Native.rd_kafka_err2str(err))}");
    }

    /// <summary>
    /// Deletes the records of <paramref name="topic"/> [<paramref name="partition"/>] before
    /// <paramref name="beforeOffset"/>: the partition's log start moves there, as after a DeleteRecords
    /// request (which the mock brokers do not serve).
    /// </summary>
    public void DeleteRecords(string topic, int partition, long beforeOffset)
    {
        var err = Native.rd_kafka_mock_partition_delete_records(_cluster, topic, partition, beforeOffset);
        if (err != 0) throw new InvalidOperationException($"Deleting records of {topic} [{partition}] before {beforeOffset} failed: {Marshal.PtrToStringAnsi(Native.rd_kafka_err2str(err))}");
    }

    /// <summary>Takes broker <paramref name="brokerId"/> (1-based) down, as in an outage.</summary>
    public void SetBrokerDown(int brokerId) => Native.rd_kafka_mock_broker_set_down(_cluster, brokerId);

    public void SetBrokerUp(int brokerId)
    {
        Native.rd_kafka_mock_broker_set_up(_cluster, brokerId);
        DisableNagleOnListeners(); // in case the broker listens on a new socket
    }

    public void Dispose()
    {
        if (_cluster != IntPtr.Zero) Native.rd_kafka_mock_cluster_destroy(_cluster);
        if (_handle != IntPtr.Zero) Native.rd_kafka_destroy(_handle);
        _cluster = _handle = IntPtr.Zero;
    }

    private static class Native
    {
        private const string Lib = "librdkafka";

        [DllImport(Lib)] public static extern IntPtr rd_kafka_conf_new();
        [DllImport(Lib)] public static extern int rd_kafka_conf_set(IntPtr conf, string name, string value, StringBuilder errstr, nint errstrSize);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_new(int type, IntPtr conf, StringBuilder errstr, nint errstrSize);
        [DllImport(Lib)] public static extern void rd_kafka_destroy(IntPtr rk);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_err2str(int err);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_mock_cluster_new(IntPtr rk, int brokerCount);
        [DllImport(Lib)] public static extern void rd_kafka_mock_cluster_destroy(IntPtr cluster);
        [DllImport(Lib)] public static extern IntPtr rd_kafka_mock_cluster_bootstraps(IntPtr cluster);
        [DllImport(Lib)] public static extern int rd_kafka_mock_topic_create(IntPtr cluster, string topic, int partitions, int replicationFactor);
        [DllImport(Lib)] public static extern void rd_kafka_mock_set_group_consumer_session_timeout_ms(IntPtr cluster, int timeoutMs);
        [DllImport(Lib)] public static extern int rd_kafka_mock_partition_delete_records(IntPtr cluster, string topic, int partition, long beforeOffset);
        [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_down(IntPtr cluster, int brokerId);
        [DllImport(Lib)] public static extern int rd_kafka_mock_broker_set_up(IntPtr cluster, int brokerId);
    }
}

/// <summary>
/// This process's TCP sockets on Linux (from /proc/self/fd), by local port: how the mock brokers'
/// sockets, which librdkafka does not expose, are found. Empty where there is no /proc.
/// </summary>
public static class ProcessSockets
{
    private const int AF_INET = 2, SOL_SOCKET = 1, SO_ACCEPTCONN = 30, IPPROTO_TCP = 6, TCP_NODELAY = 1;

    /// <summary>Listening sockets on one of <paramref name="ports"/>.</summary>
    public static IEnumerable<int> Listening(IReadOnlySet<int> ports) => OnPorts(ports).Where(fd => Option(fd, SOL_SOCKET, SO_ACCEPTCONN));

    /// <summary>Connected sockets on one of <paramref name="ports"/> (a broker's side of its connections).</summary>
    public static IEnumerable<int> Accepted(IReadOnlySet<int> ports) => OnPorts(ports).Where(fd => !Option(fd, SOL_SOCKET, SO_ACCEPTCONN));

    public static bool NoDelay(int fd) => Option(fd, IPPROTO_TCP, TCP_NODELAY);

    public static void SetNoDelay(int fd)
    {
        var on = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, ref on, sizeof(int));
    }

    private static IEnumerable<int> OnPorts(IReadOnlySet<int> ports)
    {
        const string fds = "/proc/self/fd";
        if (!Directory.Exists(fds)) yield break;
        foreach (var path in Directory.GetFiles(fds))
        {
            if (!int.TryParse(Path.GetFileName(path), out var fd)) continue;
            string? target;
            try { target = new FileInfo(path).LinkTarget; }
            catch (IOException) { continue; } // closed since the listing
            if (target?.StartsWith("socket:") == true && LocalPort(fd) is { } port && ports.Contains(port)) yield return fd;
        }
    }

    private static int? LocalPort(int fd)
    {
        var address = new byte[128]; // sockaddr_in: family (2 bytes), port (2, big-endian), address (4)
        var length = address.Length;
        if (getsockname(fd, address, ref length) != 0 || BitConverter.ToUInt16(address, 0) != AF_INET) return null;
        return (address[2] << 8) | address[3];
    }

    private static bool Option(int fd, int level, int name)
    {
        int value = 0, length = sizeof(int);
        return getsockopt(fd, level, name, ref value, ref length) == 0 && value != 0;
    }

    [DllImport("libc")] private static extern int getsockname(int fd, byte[] address, ref int length);
    [DllImport("libc")] private static extern int getsockopt(int fd, int level, int name, ref int value, ref int length);
    [DllImport("libc")] private static extern int setsockopt(int fd, int level, int name, ref int value, int length);
}
