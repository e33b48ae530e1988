using G = OrderStream.Contracts.ConsumerGroups;

namespace OrderStream.Checker;

/// <summary>The four services, each with its own database.</summary>
public enum Service { Gateway, Inventory, Payment, Materializer }

/// <summary>
/// A consumer group, the database whose inbox it writes (its inbox rows carry the group name as
/// <c>consumer</c>) and the topics it subscribes to.
/// </summary>
public sealed record ConsumerGroup(string Name, Service Service, IReadOnlyList<string> Topics)
{
    /// <summary>The groups of a default deployment: each consuming service's group is its name (<c>Kafka__GroupId</c> unset).</summary>
    public static readonly IReadOnlyList<ConsumerGroup> Defaults =
    [
        new("inventory", Service.Inventory, G.Inventory),
        new("payment", Service.Payment, G.Payment),
        new("order-materializer", Service.Materializer, G.Materializer),
    ];
}

/// <summary>
/// Where the checker reads the books: one connection string per service database (the service's own
/// role, or an operator's superuser with <c>Database=</c> set to each), and optionally the Kafka cluster.
/// </summary>
public sealed record CheckOptions(string Gateway, string Inventory, string Payment, string Materializer)
{
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
