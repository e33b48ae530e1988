namespace OrderStream.Messaging;

/// <summary>
/// How far this service's consumer is behind: records between its position and the end of each topic,
/// summed over its partitions, as last measured by the consumer loop. The lag gauge and
/// <c>GET /admin/{service}/status</c> both read it, so they never disagree.
/// </summary>
public sealed class ConsumerLag
{
    private volatile IReadOnlyDictionary<string, long> _byTopic = new Dictionary<string, long>();

    /// <summary>Per topic; a topic none of whose partitions has a known position yet is missing.</summary>
    public IReadOnlyDictionary<string, long> ByTopic => _byTopic;

    public long Total => _byTopic.Values.Sum();

    internal void Set(IReadOnlyDictionary<string, long> byTopic) => _byTopic = byTopic;
}
