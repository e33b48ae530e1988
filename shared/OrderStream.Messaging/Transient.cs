using System.Net.Sockets;
using Confluent.Kafka;
using Npgsql;
using Polly;
using Polly.Retry;

namespace OrderStream.Messaging;

/// <summary>
/// Which failures are worth retrying, and the one backoff every retry in messaging uses: exponential
/// from 50 ms with jitter, capped at 5 s. What differs is only how long a failure is retried. A
/// transient failure (database or broker unreachable) is retried for as long as it lasts; an
/// unexpected handler error gets a few tries before the message is dead-lettered; a
/// <see cref="PermanentMessageException"/> is never retried.
/// </summary>
public static class Transient
{
    public const int HandlerErrorAttempts = 3;

    public static bool IsTransient(Exception ex) => ex switch
    {
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or IOException || npgsql is PostgresException { SqlState: "40001" or "40P01" or "57P01" or "57P03" or "53300" },
        KafkaException kafka => !kafka.Error.IsFatal,
        TimeoutException or SocketException or IOException => true,
        InvalidOperationException { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };

    /// <summary>A consumed message's transaction, or its dead letter: transient failures for as long as they last, other errors <see cref="HandlerErrorAttempts"/> times in all, a permanent one never.</summary>
    public static ResiliencePipeline MessagePipeline(Action<Exception, int, TimeSpan>? onRetry = null) =>
        Backoff((ex, attempt) => ex switch
        {
            OperationCanceledException or PermanentMessageException => false,
            _ when IsTransient(ex) => true,
            _ => attempt + 1 < HandlerErrorAttempts,
        }, onRetry);

    /// <summary>The consumer's poll: broker trouble is waited out for as long as it lasts; anything else (a fatal error) is not retried.</summary>
    public static ResiliencePipeline TransientPipeline(Action<Exception, int, TimeSpan>? onRetry = null) =>
        Backoff((ex, _) => IsTransient(ex), onRetry);

    /// <summary>The outbox relay: every failure but shutdown is retried for as long as it lasts (the rows stay unsent, never lost).</summary>
    public static ResiliencePipeline UntilShutdownPipeline(Action<Exception, int, TimeSpan>? onRetry = null) =>
        Backoff((ex, _) => ex is not OperationCanceledException { CancellationToken.IsCancellationRequested: true }, onRetry);

    private static ResiliencePipeline Backoff(Func<Exception, int, bool> retry, Action<Exception, int, TimeSpan>? onRetry) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } ex && retry(ex, args.AttemptNumber)),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(50),
                MaxDelay = TimeSpan.FromSeconds(5),
                OnRetry = args =>
                {
                    onRetry?.Invoke(args.Outcome.Exception!, args.AttemptNumber, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
}
