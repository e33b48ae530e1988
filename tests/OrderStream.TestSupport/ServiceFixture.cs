using System.Text.Json;
using Dapper;
using Npgsql;
using OrderStream.Contracts;
using Xunit;

namespace OrderStream.TestSupport;

/// <summary>
/// One service as its own process, with its own database and Kafka cluster, for integration tests
/// that feed it events through Kafka and check its database and the events it emits.
/// </summary>
public abstract class ServiceFixture : IAsyncLifetime
{
    public KafkaTestCluster Kafka { get; } = KafkaTestCluster.Start();
    public RedisServer Redis { get; } = RedisServer.Start();
    public string ConnectionString { get; private set; } = "";
    public ServiceProcess Service { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    protected abstract string Name { get; }
    protected virtual IEnumerable<KeyValuePair<string, string>> Settings => [];

    public async Task InitializeAsync()
    {
        ConnectionString = PostgresServer.Instance.CreateDatabase(Name.Replace("-", ""));
        Service = ServiceProcess.Create(Name, ConnectionString, Kafka.BootstrapServers,
            Settings.Append(KeyValuePair.Create("Redis__Configuration", Redis.Configuration)));
        await Service.StartAsync();
        // As the user each request is about: a customer for their orders, a seller for stock, else an admin.
        Http = Service.ActingClient();
    }

    public async Task<T> QueryOneAsync<T>(string sql, object? args = null)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        return await conn.QuerySingleAsync<T>(sql, args);
    }

    public async Task<List<T>> QueryAsync<T>(string sql, object? args = null)
    {
        await using var conn = new NpgsqlConnection(ConnectionString);
        return (await conn.QueryAsync<T>(sql, args)).AsList();
    }

    /// <summary>The envelopes on <paramref name="topic"/> for one order, in partition order.</summary>
    public List<Envelope> EventsOf(string topic, Guid orderId) => [.. EventsByOrder(topic, new HashSet<Guid> { orderId })[orderId]];

    /// <summary>The envelopes on <paramref name="topic"/> of each of <paramref name="orderIds"/>, in partition order, from one read of the topic.</summary>
    public ILookup<Guid, Envelope> EventsByOrder(string topic, IReadOnlySet<Guid> orderIds) =>
        Kafka.ReadAll(topic)
            .Select(m => (Message: m, OrderId: m.Message.Key is { } key && Guid.TryParse(System.Text.Encoding.UTF8.GetString(key), out var id) ? id : Guid.Empty))
            .Where(m => orderIds.Contains(m.OrderId))
            .OrderBy(m => m.Message.Offset.Value)
            .ToLookup(m => m.OrderId, m => JsonSerializer.Deserialize<Envelope>(m.Message.Message.Value, EventJson.Options)!);

    /// <summary>Waits until <paramref name="count"/> events of the order are on the topic, then returns them.</summary>
    public Task<List<Envelope>> WaitForEventsAsync(string topic, Guid orderId, int count = 1) =>
        Eventually.Get(() => Task.FromResult(EventsOf(topic, orderId) is { } e && e.Count >= count ? e : null),
            TimeSpan.FromSeconds(20), $"{count} {topic} event(s) for {orderId}");

    /// <summary>Waits until the service's consumer group has committed past every message of <paramref name="topics"/>.</summary>
    public Task WaitCaughtUpAsync(string group, params string[] topics) =>
        Eventually.True(() => Task.FromResult(topics.All(t => Kafka.Lag(group, t) == 0)), TimeSpan.FromSeconds(30), $"{group} to catch up");

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Service is not null) await Service.DisposeAsync();
        Redis.Dispose();
        Kafka.Dispose();
    }
}
