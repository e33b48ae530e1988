using OrderStream.Contracts;

namespace OrderStream.Checker;

/// <summary>
/// The saga services whose books the checker reads, each named as its key in <see cref="Catalogue"/>
/// (a test keeps the two equal). The books differ per service: each reads that service's own tables.
/// </summary>
public enum Service { Gateway, Inventory, Payment, Materializer }

public static class ServiceCatalogue
{
    /// <summary>The checker's name for a saga service of the catalogue.</summary>
    public static Service Of(ServiceSpec spec) =>
        Enum.TryParse<Service>(spec.Key, ignoreCase: true, out var service) ? service
            : throw new ArgumentException($"The checker does not know the books of '{spec.Name}'", nameof(spec));

    /// <summary>The catalogue's entry for a service: its database, consumer group and topics.</summary>
    public static ServiceSpec Spec(this Service service) => Catalogue.ByKey(service.ToString().ToLowerInvariant());
}

/// <summary>
/// A consumer group, the database whose inbox it writes (its inbox rows carry the group name as
/// <c>consumer</c>) and the topics it subscribes to.
/// </summary>
public sealed record ConsumerGroup(string Name, Service Service, IReadOnlyList<string> Topics)
{
    /// <summary>The groups of a default deployment: each consuming service's group is its name (<c>Kafka__GroupId</c> unset).</summary>
    public static readonly IReadOnlyList<ConsumerGroup> Defaults =
        [.. Catalogue.SagaServices.Where(s => s.IsConsumer).Select(s => new ConsumerGroup(s.Name, ServiceCatalogue.Of(s), s.Consumes))];
}

/// <summary>
/// Where the checker reads the books: one connection string per service database (the service's own
/// role, or an operator's superuser with <c>Database=</c> set to each), and optionally the Kafka cluster.
/// </summary>
public sealed record CheckOptions(string Gateway, string Inventory, string Payment, string Materializer)
{
    /// <summary>From one connection string per database, keyed as <see cref="ServiceSpec.Database"/> names them.</summary>
    /// <exception cref="ArgumentException">A saga service's database is missing.</exception>
    public static CheckOptions ForDatabases(IReadOnlyDictionary<string, string> connectionStrings)
    {
        string For(Service s) => connectionStrings.TryGetValue(s.Spec().Database!, out var cs) ? cs
            : throw new ArgumentException($"No connection string for the {s.Spec().Database} database", nameof(connectionStrings));
        return new(For(Service.Gateway), For(Service.Inventory), For(Service.Payment), For(Service.Materializer));
    }

    /// <summary>Bootstrap servers; when null, consumer lag and dead letters are not checked.</summary>
    public string? KafkaBootstrapServers { get; init; }

    /// <summary>The consumer groups whose lag, inbox and dead letters are reported.</summary>
    public IReadOnlyList<ConsumerGroup> ConsumerGroups { get; init; } = ConsumerGroup.Defaults;

    /// <summary>How many examples (order ids, SKUs) each finding lists at most.</summary>
    public int ExampleLimit { get; init; } = 10;

    /// <summary>Timeout of each Kafka request (metadata, watermarks, committed offsets, reading a dead-letter topic).</summary>
    public TimeSpan KafkaTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public string ConnectionString(Service service) => service switch
    {
        Service.Gateway => Gateway,
        Service.Inventory => Inventory,
        Service.Payment => Payment,
        Service.Materializer => Materializer,
        _ => throw new ArgumentOutOfRangeException(nameof(service)),
    };
}
