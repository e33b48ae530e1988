using OrderStream.Contracts;

namespace OrderStream.Checker;

/// <summary>
/// The saga services whose books the checker reads: the catalogue's, so a new service's outbox, inbox,
/// consumer group and dead letters are checked without an edit here. Only the books of one service's
/// own tables (orders, stock, payments, the view) name their service, in <see cref="BooksReader"/>.
/// </summary>
public static class CheckedServices
{
    /// <summary>
    /// In the order the report lists them: where orders enter (services that consume nothing, the
    /// gateway) first, then the consumers in the catalogue's order.
    /// </summary>
    public static readonly IReadOnlyList<ServiceSpec> All = [.. Catalogue.SagaServices.OrderBy(s => s.IsConsumer)];

    /// <summary>
    /// The topics on which <paramref name="service"/> decides something about an order, whose outbox rows
    /// the checks count per order: what it produces of <see cref="Topics.OrderFacts"/>. The other topics
    /// are not keyed by order (inventory.adjusted is keyed by SKU) or are no decision (order.updated).
    /// </summary>
    public static string[] DecisionTopics(ServiceSpec service) => [.. service.Produces.Intersect(Topics.OrderFacts)];
}

/// <summary>
/// A consumer group, the service whose inbox it writes (its inbox rows carry the group name as
/// <c>consumer</c>) and the topics it subscribes to.
/// </summary>
public sealed record ConsumerGroup(string Name, ServiceSpec Service, IReadOnlyList<string> Topics)
{
    /// <summary>The groups of a default deployment: each consuming service's group is its name (<c>Kafka__GroupId</c> unset).</summary>
    public static readonly IReadOnlyList<ConsumerGroup> Defaults =
        [.. CheckedServices.All.Where(s => s.IsConsumer).Select(s => new ConsumerGroup(s.Name, s, s.Consumes))];
}

/// <summary>
/// Where the checker reads the books: one connection string per saga service's database (the service's
/// own role, or an operator's superuser with <c>Database=</c> set to each), and optionally the Kafka cluster.
/// </summary>
public sealed record CheckOptions
{
    /// <param name="databases">One connection string per database, keyed as <see cref="ServiceSpec.Database"/> names them; other keys are ignored.</param>
    /// <exception cref="ArgumentException">A saga service's database is missing.</exception>
    public CheckOptions(IReadOnlyDictionary<string, string> databases)
    {
        if (CheckedServices.All.FirstOrDefault(s => !databases.ContainsKey(s.Database!)) is { } missing)
            throw new ArgumentException($"No connection string for the {missing.Database} database", nameof(databases));
        Databases = databases;
    }

    /// <summary>Connection strings by database name.</summary>
    public IReadOnlyDictionary<string, string> Databases { get; }

    /// <summary>Bootstrap servers; when null, consumer lag and dead letters are not checked.</summary>
    public string? KafkaBootstrapServers { get; init; }

    /// <summary>The consumer groups whose lag, inbox and dead letters are reported.</summary>
    public IReadOnlyList<ConsumerGroup> ConsumerGroups { get; init; } = ConsumerGroup.Defaults;

    /// <summary>How many examples (order ids, SKUs) each finding lists at most.</summary>
    public int ExampleLimit { get; init; } = 10;

    /// <summary>Timeout of each Kafka request (metadata, watermarks, committed offsets, reading a dead-letter topic).</summary>
    public TimeSpan KafkaTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <exception cref="ArgumentException"><paramref name="service"/> has no database here.</exception>
    public string ConnectionString(ServiceSpec service) =>
        service.Database is { } db && Databases.TryGetValue(db, out var cs) ? cs
            : throw new ArgumentException($"No database of '{service.Name}' to check", nameof(service));
}
