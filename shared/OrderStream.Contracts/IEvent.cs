namespace OrderStream.Contracts;

/// <summary>
/// A saga event. The static members tie a record to its topic and versioned type without relying
/// on CLR type names, so renaming a class never changes what goes on the wire.
/// </summary>
public interface IEvent : IOrderEvent
{
    /// <summary>The topic (and versioned event type), e.g. <c>order.created.v1</c>.</summary>
    static abstract string Topic { get; }
}

/// <summary>An event about a SKU's stock rather than an order: keyed and correlated by <see cref="Sku"/>.</summary>
public interface IStockEvent
{
    static abstract string Topic { get; }

    string Sku { get; }
}

/// <summary>Any event of an order, when its concrete type is not known statically.</summary>
public interface IOrderEvent
{
    /// <summary>The order the event belongs to: the Kafka key and the correlation id.</summary>
    Guid OrderId { get; }
}

/// <summary>Splits a versioned type such as <c>order.created.v1</c> into its name and version.</summary>
public static class EventType
{
    public static (string Name, int Version) Parse(string versionedType)
    {
        var dot = versionedType.LastIndexOf(".v", StringComparison.Ordinal);
        if (dot <= 0 || !int.TryParse(versionedType.AsSpan(dot + 2), out var version))
            throw new FormatException($"'{versionedType}' is not a versioned event type like 'order.created.v1'.");
        return (versionedType[..dot], version);
    }
}
