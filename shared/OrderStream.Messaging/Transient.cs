using System.Net.Sockets;
using Confluent.Kafka;
using Npgsql;
using Polly;
using Polly.Retry;

namespace OrderStream.Messaging;

/// <summary>
/// Which failures are worth retrying, and the retry pipeline the consumer and relay share. A
/// transient failure (database or broker unreachable) is retried for as long as it lasts, with capped
/// exponential backoff and jitter; an unexpected handler error gets a few tries before the message is
/// dead-lettered; a <see cref="PermanentMessageException"/> is never retried.
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

    public static ResiliencePipeline MessagePipeline(Action<Exception, int, TimeSpan>? onRetry = null) =>
        new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception switch
                {
                    null or OperationCanceledException or PermanentMessageException => false,
                    var ex when IsTransient(ex) => true,
                    _ => args.AttemptNumber + 1 < HandlerErrorAttempts,
                }),
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
