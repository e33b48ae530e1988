using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.Messaging;

internal sealed record Subscription(
    string Topic,
    Func<JsonElement, IOrderEvent?> Deserialize,
    Func<IServiceProvider, IOrderEvent, object, EventContext, CancellationToken, Task> Handle);

/// <summary>The topic → handler map of one service's consumer, built by explicit <c>Subscribe</c> calls in Program.cs.</summary>
public sealed class EventSubscriptions
{
    private readonly Dictionary<string, Subscription> _byTopic = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Topics => _byTopic.Keys;

    internal Subscription For(string topic) =>
        _byTopic.TryGetValue(topic, out var s) ? s : throw new PermanentMessageException($"No handler for topic '{topic}'");

    internal void Add<TEvent, TState, THandler>() where TEvent : IEvent where THandler : IEventHandler<TEvent, TState>
    {
        if (!_byTopic.TryAdd(TEvent.Topic, new Subscription(
                TEvent.Topic,
                payload => payload.Deserialize<TEvent>(EventJson.Options),
                (sp, evt, state, ctx, ct) => sp.GetRequiredService<THandler>().HandleAsync((TEvent)evt, (TState)state, ctx, ct))))
            throw new InvalidOperationException($"Topic '{TEvent.Topic}' already has a handler");
    }
}

/// <summary>
/// The batch step of the consumer's transaction without its state type, so the consumer needs no type
/// parameter: it calls the service's <see cref="IBatchEventHandler{TState}"/> from the transaction's scope.
/// </summary>
internal abstract class BatchStep
{
    public abstract Task<object> LoadAsync(IServiceProvider services, IReadOnlyList<IOrderEvent> events, NpgsqlTransaction tx, CancellationToken ct);
    public abstract Task SaveAsync(IServiceProvider services, object state, NpgsqlTransaction tx, CancellationToken ct);
    public abstract Task AfterCommitAsync(IServiceProvider services, object state, CancellationToken ct);
}

internal sealed class BatchStep<TState, TBatch> : BatchStep where TState : class where TBatch : IBatchEventHandler<TState>
{
    private static IBatchEventHandler<TState> Handler(IServiceProvider services) => services.GetRequiredService<TBatch>();

    public override async Task<object> LoadAsync(IServiceProvider services, IReadOnlyList<IOrderEvent> events, NpgsqlTransaction tx, CancellationToken ct) =>
        await Handler(services).LoadAsync(events, tx, ct);

    public override Task SaveAsync(IServiceProvider services, object state, NpgsqlTransaction tx, CancellationToken ct) =>
        Handler(services).SaveAsync((TState)state, tx, ct);

    public override Task AfterCommitAsync(IServiceProvider services, object state, CancellationToken ct) =>
        Handler(services).AfterCommitAsync((TState)state, ct);
}

/// <summary>Wiring for a service's consumer: first the state its transactions decide on (<see cref="WithBatch{TState, TBatch}"/>), then one <c>Subscribe</c> line per topic.</summary>
public sealed class EventConsumerBuilder(IServiceCollection services, EventSubscriptions subscriptions)
{
    /// <summary>
    /// Each consumer transaction loads one <typeparamref name="TState"/> for all its events with
    /// <typeparamref name="TBatch"/>, lets the handlers decide on it, and saves it with <typeparamref name="TBatch"/>.
    /// </summary>
    public EventConsumerBuilder<TState> WithBatch<TState, TBatch>()
        where TState : class
        where TBatch : class, IBatchEventHandler<TState>
    {
        if (services.Any(d => d.ServiceType == typeof(BatchStep)))
            throw new InvalidOperationException("The consumer already has its batch state");
        services.TryAddScoped<TBatch>();
        services.AddSingleton<BatchStep>(new BatchStep<TState, TBatch>());
        return new EventConsumerBuilder<TState>(services, subscriptions);
    }
}

/// <summary>The subscriptions of a consumer whose transactions decide on a <typeparamref name="TState"/>.</summary>
public sealed class EventConsumerBuilder<TState>(IServiceCollection services, EventSubscriptions subscriptions) where TState : class
{
    public EventConsumerBuilder<TState> Subscribe<TEvent, THandler>()
        where TEvent : IEvent
        where THandler : class, IEventHandler<TEvent, TState>
    {
        subscriptions.Add<TEvent, TState, THandler>();
        services.TryAddScoped<THandler>();
        return this;
    }
}
