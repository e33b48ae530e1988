using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using OrderStream.Contracts;
using OrderStream.Inventory.Domain;
using OrderStream.Inventory.Handlers;
using OrderStream.Messaging;
using OrderStream.Messaging.Consumer;
using Polly;

namespace OrderStream.UnitTests;

/// <summary>The consumer's pieces that need no broker or database: decoding, the backoff, the operator hooks.</summary>
public class ConsumerPipelineTests
{
    private static readonly Guid OrderId = Guid.CreateVersion7();

    private static MessageDecoder Decoder()
    {
        var subscriptions = new EventSubscriptions();
        subscriptions.Add<OrderCreatedV1, StockBook, ReserveStock>();
        return new MessageDecoder(subscriptions);
    }

    private static ConsumeResult<byte[]?, byte[]?> Message(string topic, string? key, byte[]? value, string? eventType = null)
    {
        var headers = new Confluent.Kafka.Headers();
        if (eventType is not null) headers.Add(Contracts.Headers.EventType, Encoding.UTF8.GetBytes(eventType));
        return new ConsumeResult<byte[]?, byte[]?>
        {
            Topic = topic, Partition = 0, Offset = 7,
            Message = new Message<byte[]?, byte[]?> { Key = key is null ? null : Encoding.UTF8.GetBytes(key), Value = value, Headers = headers },
        };
    }

    private static byte[] Body(Guid orderId, Guid? eventId = null) =>
        Outbox.Serialize(OutgoingEvent.For(new OrderCreatedV1(orderId, "alice", [new OrderLine("SKU-1", 1, 9.99m)], 9.99m, "EUR", DateTimeOffset.UtcNow)),
            eventId ?? Guid.CreateVersion7(), null, DateTimeOffset.UtcNow);

    [Fact]
    public void A_well_formed_message_decodes_to_its_envelope_and_event()
    {
        var eventId = Guid.CreateVersion7();
        var decoded = Decoder().Decode(Message(Topics.OrderCreated, OrderId.ToString(), Body(OrderId, eventId), Topics.OrderCreated));
        Assert.Equal(eventId, decoded.Envelope.EventId);
        Assert.Equal(OrderId, Assert.IsType<OrderCreatedV1>(decoded.Event).OrderId);
        Assert.Equal(OrderId.ToString(), decoded.Key);
    }

    [Fact]
    public void A_message_that_can_never_succeed_is_a_permanent_failure()
    {
        var decoder = Decoder();
        var key = OrderId.ToString();
        Assert.Contains("No handler", Assert.Throws<PermanentMessageException>(() => decoder.Decode(Message(Topics.PaymentFailed, key, Body(OrderId)))).Message);
        Assert.Contains("does not belong", Assert.Throws<PermanentMessageException>(() => decoder.Decode(Message(Topics.OrderCreated, key, Body(OrderId), Topics.PaymentFailed))).Message);
        Assert.Contains("Empty", Assert.Throws<PermanentMessageException>(() => decoder.Decode(Message(Topics.OrderCreated, key, []))).Message);
        var malformed = Assert.Throws<PermanentMessageException>(() => decoder.Decode(Message(Topics.OrderCreated, key, "{not json"u8.ToArray())));
        Assert.IsAssignableFrom<JsonException>(malformed.InnerException);
        Assert.Contains("no event id", Assert.Throws<PermanentMessageException>(() => decoder.Decode(Message(Topics.OrderCreated, key, Body(OrderId, Guid.Empty)))).Message);
        Assert.Contains("is not the payload's order id", Assert.Throws<PermanentMessageException>(() => decoder.Decode(Message(Topics.OrderCreated, Guid.NewGuid().ToString(), Body(OrderId)))).Message);
    }

    private static int Attempts(ResiliencePipeline pipeline, Func<int, Exception?> failure)
    {
        var attempts = 0;
        try
        {
            pipeline.Execute(() =>
            {
                if (failure(++attempts) is { } ex) throw ex;
            });
        }
        catch (Exception)
        {
            // Gave up: the count says after how many attempts.
        }
        return attempts;
    }

    [Fact]
    public void Each_pipeline_retries_as_long_as_its_failures_deserve()
    {
        Exception? FailsFourTimes(int attempt, Exception ex) => attempt <= 4 ? ex : null;

        // A consumed message: transient failures until they pass, a handler error 3 times in all, a permanent one once.
        Assert.Equal(5, Attempts(Transient.MessagePipeline(), a => FailsFourTimes(a, new TimeoutException())));
        Assert.Equal(Transient.HandlerErrorAttempts, Attempts(Transient.MessagePipeline(), a => FailsFourTimes(a, new InvalidOperationException())));
        Assert.Equal(1, Attempts(Transient.MessagePipeline(), _ => new PermanentMessageException("bad")));

        // The poll: broker trouble until it passes, a fatal error never.
        Assert.Equal(5, Attempts(Transient.TransientPipeline(), a => FailsFourTimes(a, new KafkaException(ErrorCode.Local_Transport))));
        Assert.Equal(1, Attempts(Transient.TransientPipeline(), _ => new KafkaException(new Error(ErrorCode.Local_Fatal, "fatal", isFatal: true))));

        // The relay: anything until it passes, except its own shutdown.
        Assert.Equal(5, Attempts(Transient.UntilShutdownPipeline(), a => FailsFourTimes(a, new InvalidOperationException())));
        using var shutdown = new CancellationTokenSource();
        shutdown.Cancel();
        Assert.Equal(1, Attempts(Transient.UntilShutdownPipeline(), _ => new OperationCanceledException(shutdown.Token)));
    }

    [Fact]
    public void Without_the_operator_controls_the_consumer_has_no_hooks_and_with_them_ConsumerControl_is_each_one()
    {
        var services = new ServiceCollection();
        services.AddEventConsumer().WithBatch<StockBook, StockBatch>().Subscribe<OrderCreatedV1, ReserveStock>();
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(IConsumeInterceptor) || d.ServiceType == typeof(IHandleInterceptor) || d.ServiceType == typeof(ConsumerControl));

        services.AddConsumerControls().AddConsumerControls();
        using var provider = services.BuildServiceProvider();
        var control = provider.GetRequiredService<ConsumerControl>();
        Assert.Same(control, Assert.Single(provider.GetServices<IConsumeInterceptor>()));
        Assert.Same(control, Assert.Single(provider.GetServices<IHandleInterceptor>()));
    }

    [Fact]
    public void Injected_failures_fail_handlers_of_their_topic_in_their_mode_and_pause_holds_batches_back()
    {
        var control = new ConsumerControl();
        IHandleInterceptor hook = control;
        hook.BeforeHandle(Topics.OrderCreated);

        control.InjectFailures(new FailureInjection(1, FailureMode.Transient, Topics.OrderCreated));
        Assert.Throws<InjectedTransientFailureException>(() => hook.BeforeHandle(Topics.OrderCreated));
        hook.BeforeHandle(Topics.PaymentFailed);
        control.InjectFailures(new FailureInjection(1, FailureMode.Error, null));
        Assert.Throws<InjectedFailureException>(() => hook.BeforeHandle(Topics.PaymentFailed));

        IConsumeInterceptor pause = control;
        Assert.False(pause.Paused);
        control.Pause();
        Assert.True(pause.Paused);
        control.Resume();
        Assert.False(pause.HoldBack(null!, [Message(Topics.OrderCreated, null, null)]));
    }
}
