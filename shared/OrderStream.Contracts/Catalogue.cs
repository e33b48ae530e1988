namespace OrderStream.Contracts;

/// <summary>What a process of the system is, for the tools that run, deploy and check it.</summary>
public enum ServiceKind
{
    /// <summary>A saga service: its own database, the outbox, and operator endpoints under <c>/admin/{key}</c>.</summary>
    Saga,

    /// <summary>A user interface: a client of the gateway's HTTP API, with no database of its own.</summary>
    Frontend,

    /// <summary>
    /// A stand-in for a system outside OrderStream (a vendor's stock API), built from <c>deploy/</c>: the local stack,
    /// the tests and compose run it; Kubernetes does not, since there the real system's address is configuration.
    /// </summary>
    Mock,
}

/// <summary>
/// One process of the system.
/// </summary>
/// <param name="Name">Directory under <c>services/</c> (a mock's project is under <c>deploy/</c>), process and container name, OpenTelemetry service name, consumer group.</param>
/// <param name="Key">Short name: its database and role, its <c>/admin/{key}</c> segment, its <c>Services:{Key}</c> address setting.</param>
/// <param name="Project">The project (and assembly) under <c>services/{Name}</c>.</param>
/// <param name="Kind">A saga service, a frontend or a mock of an outside system.</param>
/// <param name="Port">Its HTTP port on a local stack (<c>deploy/local/run.sh</c>); containers listen on 8080.</param>
/// <param name="Consumes">The topics it subscribes to, exactly as its <c>Program.cs</c> does (a test keeps the two equal).</param>
/// <param name="Produces">The topics its outbox writes to.</param>
/// <param name="Calls">The services it calls over HTTP (each by <see cref="Key"/>), given to it as <c>Services__{Key}</c>.</param>
/// <param name="UsesRedis">Whether it gets <c>Redis__Configuration</c>.</param>
public sealed record ServiceSpec(
    string Name,
    string Key,
    string Project,
    int Port,
    ServiceKind Kind,
    IReadOnlyList<string> Consumes,
    IReadOnlyList<string> Produces,
    IReadOnlyList<string> Calls,
    bool UsesRedis)
{
    /// <summary>Its database (and role) name, or null for a process without one.</summary>
    public string? Database => Kind == ServiceKind.Saga ? Key : null;

    /// <summary>Its project's folder from the repository root: <c>services/{Name}</c>; a mock's <c>deploy/{Project}</c> (one project, several instances).</summary>
    public string Folder => Kind == ServiceKind.Mock ? "deploy/" + Project : "services/" + Name;

    /// <summary>Its key as a configuration section or a label: <c>materializer</c> → <c>Materializer</c>.</summary>
    public string Section => char.ToUpperInvariant(Key[0]) + Key[1..];

    /// <summary>The setting that holds its base address for the services that call it: <c>Services:Inventory</c>.</summary>
    public string AddressSetting => "Services:" + Section;

    /// <summary>Whether it runs a consumer (and so a consumer group named <see cref="Name"/>).</summary>
    public bool IsConsumer => Consumes.Count > 0;
}

/// <summary>A saga topic as a broker must provide it.</summary>
/// <param name="Name">The topic, which is also its event's type and version.</param>
/// <param name="Partitions">Partitions in a production cluster (compose, Kubernetes); the local stack and tests choose their own.</param>
public sealed record TopicSpec(string Name, int Partitions)
{
    public string DeadLetter => Topics.DeadLetter(Name);
}

/// <summary>
/// The one declaration of what the system is made of: every process and every topic. run.sh, the
/// test harness, the checker, the load tool, the gateway's admin proxy, the dashboard, and the
/// compose and Kubernetes files derive from it (the last two are checked against it by DeployTests).
/// Adding a service starts here: docs/architecture.md, "Adding a service".
/// </summary>
public static class Catalogue
{
    public const int ProductionPartitions = 12;

    public static readonly ServiceSpec ApiGateway = new(
        Name: "api-gateway", Key: "gateway", Project: "OrderStream.ApiGateway", Port: 5080, Kind: ServiceKind.Saga,
        Consumes: [],
        Produces: [Topics.OrderCreated, Topics.OrderCancelRequested, Topics.OrderShipRequested],
        Calls: ["inventory", "payment", "materializer", "fulfilment"],
        UsesRedis: true);

    // Two mock vendors whose stock inventory syncs (docs/architecture.md, "Stock from vendors"). Where real vendors
    // exist (Kubernetes) their addresses are inventory's configuration and nothing here runs.
    public static readonly ServiceSpec VendorA = new(
        Name: "vendor-a", Key: "vendorA", Project: "OrderStream.MockVendor", Port: 5086, Kind: ServiceKind.Mock,
        Consumes: [], Produces: [], Calls: [], UsesRedis: false);

    public static readonly ServiceSpec VendorB = new(
        Name: "vendor-b", Key: "vendorB", Project: "OrderStream.MockVendor", Port: 5087, Kind: ServiceKind.Mock,
        Consumes: [], Produces: [], Calls: [], UsesRedis: false);

    public static readonly ServiceSpec Inventory = new(
        Name: "inventory", Key: "inventory", Project: "OrderStream.Inventory", Port: 5081, Kind: ServiceKind.Saga,
        Consumes: [Topics.OrderCreated, Topics.PaymentAuthorized, Topics.PaymentFailed, Topics.OrderCancelRequested],
        Produces: [Topics.InventoryReserved, Topics.InventoryFailed, Topics.InventoryReleased, Topics.InventoryAdjusted,
            Topics.InventorySold, Topics.InventoryReturned],
        // The vendors whose stock it syncs, when they run beside it (a plan without them gives it none).
        Calls: ["vendorA", "vendorB"],
        UsesRedis: false);

    public static readonly ServiceSpec Payment = new(
        Name: "payment", Key: "payment", Project: "OrderStream.Payment", Port: 5082, Kind: ServiceKind.Saga,
        // Both versions of inventory.reserved until v1 is retired: events written before the rollout still settle.
        Consumes: [Topics.InventoryReserved, Topics.InventoryReservedV1, Topics.InventoryReleased, Topics.InventoryReturned],
        Produces: [Topics.PaymentAuthorized, Topics.PaymentFailed, Topics.PaymentVoided, Topics.PaymentRefunded],
        Calls: [],
        UsesRedis: false);

    public static readonly ServiceSpec OrderMaterializer = new(
        Name: "order-materializer", Key: "materializer", Project: "OrderStream.OrderMaterializer", Port: 5083, Kind: ServiceKind.Saga,
        Consumes: Topics.OrderFacts,
        Produces: [Topics.OrderUpdated],
        Calls: [],
        UsesRedis: true);

    public static readonly ServiceSpec Fulfilment = new(
        Name: "fulfilment", Key: "fulfilment", Project: "OrderStream.Fulfilment", Port: 5084, Kind: ServiceKind.Saga,
        Consumes: [Topics.InventorySold, Topics.OrderShipRequested, Topics.InventoryReturned],
        Produces: [Topics.ShipmentDispatched],
        Calls: [],
        UsesRedis: false);

    public static readonly ServiceSpec Dashboard = new(
        Name: "dashboard", Key: "dashboard", Project: "OrderStream.Dashboard", Port: 5090, Kind: ServiceKind.Frontend,
        Consumes: [],
        Produces: [],
        Calls: ["gateway"],
        UsesRedis: false);

    /// <summary>Every process, in start order: a service starts after the ones it calls.</summary>
    public static readonly IReadOnlyList<ServiceSpec> All = [VendorA, VendorB, Inventory, Payment, OrderMaterializer, Fulfilment, ApiGateway, Dashboard];

    /// <summary>The saga services: each with its own database, outbox and operator endpoints.</summary>
    public static IEnumerable<ServiceSpec> SagaServices => All.Where(s => s.Kind == ServiceKind.Saga);

    /// <summary>The mocks of outside systems (the vendors): run locally, in tests and in compose, never in Kubernetes.</summary>
    public static IEnumerable<ServiceSpec> Mocks => All.Where(s => s.Kind == ServiceKind.Mock);

    /// <summary>Every saga topic (as <see cref="Topics.All"/> lists them) with the partitions a production cluster gives it; each has its dead-letter topic.</summary>
    public static readonly IReadOnlyList<TopicSpec> SagaTopics = Topics.All.Select(t => new TopicSpec(t, ProductionPartitions)).ToList();

    public static ServiceSpec ByName(string name) =>
        All.FirstOrDefault(s => s.Name == name) ?? throw new ArgumentException($"No service named '{name}' in the catalogue", nameof(name));

    public static ServiceSpec ByKey(string key) =>
        All.FirstOrDefault(s => s.Key == key) ?? throw new ArgumentException($"No service with key '{key}' in the catalogue", nameof(key));
}
