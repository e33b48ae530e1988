using System.Net.Http.Json;
using Dapper;
using Npgsql;
using OrderStream.Contracts;
using Xunit;

namespace OrderStream.TestSupport;

/// <summary>
/// The whole system for one test class: its own databases on the shared PostgreSQL, its own Redis and
/// Kafka cluster, and the four services as separate processes. Tests talk to it over HTTP only, and
/// read the databases directly only to check the books.
/// </summary>
public class OrderStreamStack : IAsyncLifetime
{
    public KafkaTestCluster Kafka { get; } = KafkaTestCluster.Start();
    public RedisServer Redis { get; } = RedisServer.Start();
    public Dictionary<string, string> Databases { get; } = new();
    public ServiceProcess Gateway { get; private set; } = null!;
    public ServiceProcess Inventory { get; private set; } = null!;
    public ServiceProcess Payment { get; private set; } = null!;
    public ServiceProcess Materializer { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;

    /// <summary>The gateway, sending the operator key: <c>/admin/...</c> of every service.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>Extra settings for a service (e.g. <c>Payment__DeclineRate</c>), by service directory name.</summary>
    protected virtual IReadOnlyDictionary<string, string> ExtraSettings(string service) => new Dictionary<string, string>();

    public IEnumerable<ServiceProcess> Services => [Inventory, Payment, Materializer, Gateway];

    /// <summary>The PostgreSQL cluster that holds a service's database (by database name: gateway, inventory, payment, materializer).</summary>
    protected virtual PostgresServer ServerFor(string db) => PostgresServer.Instance;

    public async Task InitializeAsync()
    {
        foreach (var db in new[] { "gateway", "inventory", "payment", "materializer" })
            Databases[db] = ServerFor(db).CreateDatabase(db);

        Inventory = Service("inventory", "inventory");
        Payment = Service("payment", "payment");
        Materializer = Service("order-materializer", "materializer", ("Redis__Configuration", Redis.Configuration));
        Gateway = Service("api-gateway", "gateway",
            ("Redis__Configuration", Redis.Configuration),
            ("Services__Inventory", Inventory.BaseAddress.ToString()),
            ("Services__Materializer", Materializer.BaseAddress.ToString()),
            ("Services__Payment", Payment.BaseAddress.ToString()));
        await Task.WhenAll(Services.Select(s => s.StartAsync()));
        Http = new HttpClient { BaseAddress = Gateway.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Admin = Gateway.AdminClient();
    }

    private ServiceProcess Service(string name, string db, params (string Key, string Value)[] settings) =>
        ServiceProcess.Create(name, Databases[db], Kafka.BootstrapServers,
            settings.Select(s => KeyValuePair.Create(s.Key, s.Value)).Concat(ExtraSettings(name)));

    public async Task SeedAsync(string sku, long quantity)
    {
        using var inventory = new HttpClient { BaseAddress = Inventory.BaseAddress };
        (await inventory.PostAsJsonAsync($"/inventory/{sku}/restock", new { quantity })).EnsureSuccessStatusCode();
    }

    public NpgsqlConnection Db(string name) => new(Databases[name]);

    public async Task<T> QueryOneAsync<T>(string db, string sql, object? args = null)
    {
        await using var conn = Db(db);
        return await conn.QuerySingleAsync<T>(sql, args);
    }

    public async Task<List<T>> QueryAsync<T>(string db, string sql, object? args = null)
    {
        await using var conn = Db(db);
        return (await conn.QueryAsync<T>(sql, args)).AsList();
    }

    /// <summary>Polls GET /orders/{id} until the order settles (200) and returns the view.</summary>
    public Task<OrderView> WaitSettledAsync(Guid orderId, TimeSpan? timeout = null) =>
        Eventually.Get(async () =>
        {
            var response = await Http.GetAsync($"/orders/{orderId}");
            return response.StatusCode == System.Net.HttpStatusCode.OK ? await response.Content.ReadFromJsonAsync<OrderView>(EventJson.Options) : null;
        }, timeout ?? TimeSpan.FromSeconds(30), $"order {orderId} to settle", TimeSpan.FromMilliseconds(100));

    public virtual async Task DisposeAsync()
    {
        Http?.Dispose();
        Admin?.Dispose();
        await Task.WhenAll(new[] { Gateway, Materializer, Payment, Inventory }.Where(s => s is not null).Select(s => s.DisposeAsync().AsTask()));
        Redis.Dispose();
        Kafka.Dispose();
    }
}
