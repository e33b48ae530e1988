using Microsoft.Extensions.DependencyInjection;
using OrderStream.Messaging.Consumer;

namespace OrderStream.Messaging;

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

    /// <summary>
    /// The consumer (and the outbox, which its handlers write to). Chain <c>WithBatch</c>, then
    /// <c>Subscribe</c> for each topic. Pause and injected failures are not part of it: the operator
    /// controls add them (<see cref="ConsumerControlRegistration.AddConsumerControls"/>).
    /// </summary>
    public static EventConsumerBuilder AddEventConsumer(this IServiceCollection services)
    {
        services.AddOutbox();
        var subscriptions = new EventSubscriptions();
        services.AddSingleton(subscriptions);
        services.AddSingleton<ConsumerLag>();
        services.AddSingleton<ConsumerLagMeter>();
        services.AddSingleton<MessageDecoder>();
        services.AddSingleton<TransactionalApplier>();
        services.AddSingleton<DeadLetterWriter>();
        services.AddSingleton<MessageProcessor>();
        services.AddHostedService<ConsumerLoop>();
        return new EventConsumerBuilder(services, subscriptions);
    }
}
