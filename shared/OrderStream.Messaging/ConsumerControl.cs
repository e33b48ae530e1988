using System.Text.Json.Serialization;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;

namespace OrderStream.Messaging;

/// <summary>How an injected handler failure behaves.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FailureMode>))]
public enum FailureMode
{
    /// <summary>Looks like a transient fault (a timeout): retried with backoff until an attempt passes, never dropped.</summary>
    Transient,

    /// <summary>An unexpected handler error: retried <see cref="Transient.HandlerErrorAttempts"/> times in all, then dead-lettered.</summary>
    Error,
}

/// <summary>Injected failures: throw on <paramref name="Rate"/> (0..1) of handler attempts, on <paramref name="Topic"/> or on every topic.</summary>
public sealed record FailureInjection(double Rate, FailureMode Mode, string? Topic)
{
    public static readonly FailureInjection None = new(0, FailureMode.Transient, null);
}

/// <summary>A failure thrown on purpose by <see cref="ConsumerControl"/>, as a transient fault (a timeout, so it is retried like one).</summary>
public sealed class InjectedTransientFailureException(string message) : TimeoutException(message);

/// <summary>A failure thrown on purpose by <see cref="ConsumerControl"/>, as an unexpected handler error.</summary>
public sealed class InjectedFailureException(string message) : Exception(message);

/// <summary>
/// Runtime switches of one service's consumer, changed by operators without a restart: pause/resume
/// (the partitions stay assigned, so no rebalance; nothing is fetched until resumed) and injected
/// handler failures (to exercise retries and the dead-letter path). It reaches the consumer only as
/// its hooks (<see cref="IConsumeInterceptor"/>, <see cref="IHandleInterceptor"/>), which the consumer
/// loop runs on its own thread; the setters may be called from any thread.
/// </summary>
public sealed class ConsumerControl : IConsumeInterceptor, IHandleInterceptor
{
    private volatile bool _paused;
    private volatile FailureInjection _failures = FailureInjection.None;
    private volatile bool _assignmentChanged;
    private bool _appliedPaused;

    public bool Paused => _paused;
    public FailureInjection Failures => _failures;

    public void Pause() => _paused = true;
    public void Resume() => _paused = false;
    public void InjectFailures(FailureInjection failures) => _failures = failures;

    /// <summary>Before every poll: brings the assignment's pause state in line with <see cref="Paused"/>.</summary>
    void IConsumeInterceptor.BeforePoll(IConsumer<byte[]?, byte[]?> consumer)
    {
        var paused = _paused;
        // Newly assigned partitions start fetching even while paused, so a rebalance re-applies the pause.
        if (paused == _appliedPaused && !(paused && _assignmentChanged)) return;
        _assignmentChanged = false;
        var assignment = consumer.Assignment;
        if (assignment.Count > 0)
        {
            if (paused) consumer.Pause(assignment);
            else consumer.Resume(assignment);
        }
        _appliedPaused = paused;
    }

    void IConsumeInterceptor.OnAssigned() => _assignmentChanged = true;

    /// <summary>
    /// For a batch just consumed: while paused, rewinds each of its partitions to the batch's
    /// first message there and pauses it (messages fetched before the pause took effect), so they are
    /// handled after the resume.
    /// </summary>
    bool IConsumeInterceptor.HoldBack(IConsumer<byte[]?, byte[]?> consumer, IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        if (!_paused) return false;
        foreach (var first in batch.GroupBy(m => m.TopicPartition).Select(g => g.MinBy(m => m.Offset.Value)!))
        {
            consumer.Pause([first.TopicPartition]);
            consumer.Seek(first.TopicPartitionOffset);
        }
        return true;
    }

    /// <summary>Right before a handler runs (inside its transaction and retry): throws if a failure is injected for this attempt.</summary>
    void IHandleInterceptor.BeforeHandle(string topic)
    {
        var failures = _failures;
        if (failures.Rate <= 0 || (failures.Topic is not null && failures.Topic != topic) || Random.Shared.NextDouble() >= failures.Rate) return;
        var message = $"Injected failure on {topic} ({failures.Rate:P0}, {failures.Mode})";
        throw failures.Mode == FailureMode.Transient ? new InjectedTransientFailureException(message) : new InjectedFailureException(message);
    }
}

public static class ConsumerControlRegistration
{
    /// <summary>
    /// The operator's <see cref="ConsumerControl"/>, hooked into the consumer (if the service has one) for
    /// pause and injected failures. Without this call the consumer has neither.
    /// </summary>
    public static IServiceCollection AddConsumerControls(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(ConsumerControl))) return services;
        services.AddSingleton<ConsumerControl>();
        services.AddSingleton<IConsumeInterceptor>(sp => sp.GetRequiredService<ConsumerControl>());
        services.AddSingleton<IHandleInterceptor>(sp => sp.GetRequiredService<ConsumerControl>());
        return services;
    }
}
