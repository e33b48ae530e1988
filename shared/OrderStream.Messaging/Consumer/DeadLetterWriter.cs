using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderStream.Contracts;
using Polly;

namespace OrderStream.Messaging.Consumer;

/// <summary>
/// Produces a message that could not be applied to "{topic}.dlq": its key, body and headers as they
/// came, plus <see cref="DeadLetterHeaders"/> saying where it came from and why it failed.
/// </summary>
internal sealed partial class DeadLetterWriter
{
    private readonly KafkaProducer _producer;
    private readonly string _group;
    private readonly ILogger<DeadLetterWriter> _logger;
    private readonly ResiliencePipeline _retry;

    public DeadLetterWriter(KafkaProducer producer, IOptions<KafkaOptions> options, ILogger<DeadLetterWriter> logger)
    {
        (_producer, _group, _logger) = (producer, options.Value.GroupId, logger);
        // Losing a dead letter would lose the message, so broker trouble here is retried like any transient failure.
        _retry = Transient.MessagePipeline((ex, attempt, delay) => LogRetry(ex, attempt, delay.TotalMilliseconds));
    }

    public async Task WriteAsync(ConsumeResult<byte[]?, byte[]?> message, Exception error, CancellationToken ct)
    {
        var headers = new Confluent.Kafka.Headers();
        foreach (var header in message.Message.Headers ?? []) headers.Add(header.Key, header.GetValueBytes());
        void Add(string name, string value) => headers.Add(name, Encoding.UTF8.GetBytes(value));
        Add(DeadLetterHeaders.OriginalTopic, message.Topic);
        Add(DeadLetterHeaders.OriginalPartition, message.Partition.Value.ToString());
        Add(DeadLetterHeaders.OriginalOffset, message.Offset.Value.ToString());
        Add(DeadLetterHeaders.ConsumerGroup, _group);
        Add(DeadLetterHeaders.ErrorType, (error is PermanentMessageException { InnerException: { } inner } ? inner : error).GetType().FullName!);
        Add(DeadLetterHeaders.ErrorMessage, error.Message);
        Add(DeadLetterHeaders.FailedAt, DateTimeOffset.UtcNow.ToString("O"));

        var deadLetter = new Message<byte[]?, byte[]?> { Key = message.Message.Key, Value = message.Message.Value, Headers = headers };
        await _retry.ExecuteAsync(async token =>
        {
            try { await _producer.Current.ProduceAsync(Topics.DeadLetter(message.Topic), deadLetter, token); }
            catch (Exception ex) { _producer.ReplaceIfFatal(ex); throw; }
        }, ct);
        MessagingTelemetry.CountDeadLetter(_group, message.Topic);
        LogDeadLettered(error, message.Topic, message.Partition.Value, message.Offset.Value);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dead letter not produced (attempt {Attempt}); retrying in {DelayMs} ms")]
    private partial void LogRetry(Exception ex, int attempt, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dead-lettered {Topic} [{Partition}] @{Offset}")]
    private partial void LogDeadLettered(Exception ex, string topic, int partition, long offset);
}
