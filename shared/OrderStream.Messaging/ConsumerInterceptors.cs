using Confluent.Kafka;

namespace OrderStream.Messaging;

/// <summary>
/// A hook into the consumer loop, on its thread, added by the operator controls
/// (<see cref="ConsumerControlRegistration.AddConsumerControls"/>). A consumer without one has no pause step.
/// </summary>
internal interface IConsumeInterceptor
{
    /// <summary>Whether it keeps the consumer's partitions paused now (then the lag meter asks the broker for the ends).</summary>
    bool Paused { get; }

    /// <summary>Before every poll.</summary>
    void BeforePoll(IConsumer<byte[]?, byte[]?> consumer);

    /// <summary>For a batch just consumed: true holds it back (not handled, its offsets not stored; it is fetched again later).</summary>
    bool HoldBack(IConsumer<byte[]?, byte[]?> consumer, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch);

    /// <summary>From the partitions-assigned handler.</summary>
    void OnAssigned();
}

/// <summary>A hook run right before each handler, inside its transaction and retry, added by the operator controls.</summary>
internal interface IHandleInterceptor
{
    /// <summary>Throws to make this attempt fail.</summary>
    void BeforeHandle(string topic);
}
