using System.Net.Http.Json;
using Dapper;
using Npgsql;
using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.Stack;
using Xunit;

namespace OrderStream.TestSupport;

/// <summary>
/// The whole system for one test class: its own databases on the shared PostgreSQL, its own Redis and
/// Kafka cluster, and the saga services as separate processes, launched as <see cref="StackPlan"/> says
/// (the plan deploy/local/run.sh runs). Tests talk to it over HTTP only, and read the databases directly
/// only to check the books.
/// </summary>
public class OrderStreamStack : IAsyncLifetime
{
    public KafkaTestCluster Kafka { get; } = KafkaTestCluster.Start();
    public RedisServer Redis { get; } = RedisServer.Start();
    public Dictionary<string, string> Databases { get; } = new();

    /// <summary>Every process (the saga services, and the <see cref="Mocks"/> if any), by its <see cref="ServiceSpec.Key"/>, in start order.</summary>
    public IReadOnlyDictionary<string, ServiceProcess> ByKey { get; private set; } = new Dictionary<string, ServiceProcess>();

    public ServiceProcess Gateway => ByKey[Catalogue.ApiGateway.Key];
    public ServiceProcess Inventory => ByKey[Catalogue.Inventory.Key];
    public ServiceProcess Payment => ByKey[Catalogue.Payment.Key];
    public ServiceProcess Materializer => ByKey[Catalogue.OrderMaterializer.Key];
    /// <summary>The gateway, as the user each request is about (<see cref="ActingUserHandler"/>): the customer who places, reads and cancels an order.</summary>
    public HttpClient Http { get; private set; } = null!;

    /// <summary>The gateway, with an admin's token: <c>/admin/...</c> of every service, and any order.</summary>
    public HttpClient Admin { get; private set; } = null!;

    /// <summary>The gateway, with a seller's token: stock changes.</summary>
    public HttpClient Seller { get; private set; } = null!;

    /// <summary>A client of <paramref name="service"/> (the gateway by default) with <paramref name="token"/>, or none.</summary>
    public HttpClient Client(string? token, ServiceProcess? service = null)
    {
        var client = new HttpClient { BaseAddress = (service ?? Gateway).BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        return token is null ? client : client.WithToken(token);
    }

    /// <summary>
    /// The mocks of outside systems this stack runs beside the saga services (none by default): with the mock vendors,
    /// inventory is wired to sync them, as on run.sh's stack.
    /// </summary>
    protected virtual IEnumerable<ServiceSpec> Mocks => [];

    /// <summary>Extra settings for a service (e.g. <c>Payment__DeclineRate</c>), by service directory name.</summary>
    protected virtual IReadOnlyDictionary<string, string> ExtraSettings(string service) => new Dictionary<string, string>();

    public IEnumerable<ServiceProcess> Services => ByKey.Values;

    /// <summary>The PostgreSQL cluster that holds a service's database (by database name: gateway, inventory, payment, materializer).</summary>
    protected virtual PostgresServer ServerFor(string db) => PostgresServer.Instance;

    public async Task InitializeAsync()
    {
        var saga = Catalogue.SagaServices.ToList();
        foreach (var db in saga.Select(s => s.Database!))
            Databases[db] = ServerFor(db).CreateDatabase(db);
        var processes = Mocks.Concat(saga).ToList();

        var plan = StackPlan.For(new StackEndpoints
        {
            Root = Repo.Root,
            Configuration = Repo.Configuration,
            KafkaBootstrap = Kafka.BootstrapServers,
            RedisConfiguration = Redis.Configuration,
            ConnectionStrings = Databases,
            Ports = processes.ToDictionary(s => s.Key, _ => Repo.FreePort()),
            SigningKeyFile = TestIdentity.Issuer.PublicKeyFile,
            ExtraSettings = s => ServiceProcess.TestSettings.Concat(ExtraSettings(s.Name)),
        }, processes);
        ByKey = plan.ToDictionary(l => l.Spec.Key, ServiceProcess.From);
        await Task.WhenAll(Services.Select(s => s.StartAsync()));
        Http = Gateway.ActingClient();
        Admin = Gateway.AdminClient();
        Seller = Client(TestIdentity.Seller());
    }

    /// <summary>The catalogue price <see cref="SeedAsync"/> gives a SKU unless a test names one.</summary>
    public const decimal DefaultPrice = 2.50m;

    /// <summary>Puts <paramref name="quantity"/> units of <paramref name="sku"/> in stock and lists it in the catalogue at <paramref name="price"/> EUR.</summary>
    public async Task SeedAsync(string sku, long quantity, decimal price = DefaultPrice)
    {
        using var inventory = Client(TestIdentity.Seller(), Inventory);
        await SeedAsync(inventory, sku, quantity, price);
    }

    /// <summary>Restocks and prices <paramref name="sku"/> through <paramref name="inventory"/>, a client that acts as a seller.</summary>
    public static async Task SeedAsync(HttpClient inventory, string sku, long quantity, decimal price = DefaultPrice)
    {
        (await inventory.PostAsJsonAsync($"/inventory/{sku}/restock", new { quantity })).EnsureSuccessStatusCode();
        await PriceAsync(inventory, sku, price);
    }

    /// <summary>Lists <paramref name="sku"/> in the catalogue at <paramref name="price"/> (as run.sh seeds it), through a client that acts as a seller.</summary>
    public static async Task PriceAsync(HttpClient inventory, string sku, decimal price, string currency = "EUR") =>
        (await inventory.PutAsJsonAsync($"/products/{Uri.EscapeDataString(sku)}", new { name = $"Product {sku}", unitPrice = price, currency }))
            .EnsureSuccessStatusCode();

    /// <summary>The checker's view of this stack: every database and the Kafka cluster.</summary>
    public CheckOptions CheckOptions => new CheckOptions(Databases) with { KafkaBootstrapServers = Kafka.BootstrapServers };

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
        Seller?.Dispose();
        await Task.WhenAll(Services.Select(s => s.DisposeAsync().AsTask()));
        Redis.Dispose();
        Kafka.Dispose();
    }
}
