using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using OrderStream.Contracts;

namespace OrderStream.Messaging;

internal sealed record Subscription(
    string Topic,
    Func<JsonElement, IOrderEvent?> Deserialize,
    Func<IServiceProvider, IOrderEvent, EventContext, CancellationToken, Task> Handle);

/// <summary>The topic → handler map of one service's consumer, built by explicit <c>Subscribe</c> calls in Program.cs.</summary>
public sealed class EventSubscriptions
{
    private readonly Dictionary<string, Subscription> _byTopic = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Topics => _byTopic.Keys;

    internal Subscription For(string topic) =>
        _byTopic.TryGetValue(topic, out var s) ? s : throw new PermanentMessageException($"No handler for topic '{topic}'");

    internal void Add<TEvent, THandler>() where TEvent : IEvent where THandler : IEventHandler<TEvent>
    {
        if (!_byTopic.TryAdd(TEvent.Topic, new Subscription(
                TEvent.Topic,
                payload => payload.Deserialize<TEvent>(EventJson.Options),
                (sp, evt, ctx, ct) => sp.GetRequiredService<THandler>().HandleAsync((TEvent)evt, ctx, ct))))
            throw new InvalidOperationException($"Topic '{TEvent.Topic}' already has a handler");
    }
}

/// <summary>Fluent wiring for a service's consumer: one <see cref="Subscribe{TEvent, THandler}"/> line per topic.</summary>
public sealed class EventConsumerBuilder(IServiceCollection services, EventSubscriptions subscriptions)
{
    public EventConsumerBuilder Subscribe<TEvent, THandler>()
        where TEvent : IEvent
        where THandler : class, IEventHandler<TEvent>
    {
        subscriptions.Add<TEvent, THandler>();
        services.AddScoped<THandler>();
        return this;
    }
}

public static class MessagingServiceCollectionExtensions
{
    /// <summary>
    /// The outbox relay and the shared producer, and the retention pruner that keeps the outbox and inbox
    /// bounded. Every service that emits events calls this (<see cref="AddEventConsumer"/> does too).
    /// </summary>
    public static IServiceCollection AddOutbox(this IServiceCollection services)
    {
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<RetentionPruner>();
        services.AddOptions<KafkaOptions>().BindConfiguration(KafkaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<OutboxOptions>().BindConfiguration(OutboxOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<KafkaProducer>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<OutboxRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxRelay>());
        return services;
    }

    /// <summary>The consumer loop (and the outbox, which its handlers write to). Chain <c>Subscribe</c> for each topic.</summary>
    public static EventConsumerBuilder AddEventConsumer(this IServiceCollection services)
    {
        services.AddOutbox();
        var subscriptions = new EventSubscriptions();
        services.AddSingleton(subscriptions);
        services.AddSingleton<ConsumerControl>();
        services.AddSingleton<ConsumerLag>();
        services.AddSingleton<EventConsumer>();
        services.AddHostedService(sp => sp.GetRequiredService<EventConsumer>());
        return new EventConsumerBuilder(services, subscriptions);
    }
}
