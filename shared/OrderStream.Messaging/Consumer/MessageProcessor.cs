using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace OrderStream.Messaging.Consumer;

/// <summary>
/// Takes each message of a lane to an end: applied, skipped as a duplicate, or dead-lettered. The lane
/// is applied in one transaction; if that fails, nothing of it was committed, and each message is applied
/// again on its own with retries, so one bad message is dead-lettered alone and the partition moves on.
/// Throws only on shutdown.
/// </summary>
internal sealed partial class MessageProcessor
{
    private readonly MessageDecoder _decoder;
    private readonly TransactionalApplier _applier;
    private readonly DeadLetterWriter _deadLetters;
    private readonly string _group;
    private readonly ILogger<MessageProcessor> _logger;
    private readonly ResiliencePipeline _retry;

    public MessageProcessor(MessageDecoder decoder, TransactionalApplier applier, DeadLetterWriter deadLetters, IOptions<KafkaOptions> options, ILogger<MessageProcessor> logger)
    {
        (_decoder, _applier, _deadLetters, _group, _logger) = (decoder, applier, deadLetters, options.Value.GroupId, logger);
        _retry = Transient.MessagePipeline((ex, attempt, delay) => LogRetry(ex, attempt, delay.TotalMilliseconds));
    }

    public async Task ProcessLaneAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> messages, CancellationToken ct)
    {
        if (messages.Count == 1)
        {
            await ProcessAsync(messages[0], ct);
            return;
        }

        var decoded = new List<Decoded>(messages.Count);
        foreach (var message in messages)
        {
            try { decoded.Add(_decoder.Decode(message)); }
            catch (PermanentMessageException ex) { await _deadLetters.WriteAsync(message, ex, ct); }
        }

        try
        {
            await _applier.ApplyBatchAsync(decoded, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogBatchFailed(ex, decoded.Count);
            foreach (var d in decoded) await ProcessAsync(d.Message, ct);
        }
    }

    /// <summary>One message under its own span, its transaction retried as <see cref="Transient.MessagePipeline"/> says.</summary>
    public async Task ProcessAsync(ConsumeResult<byte[]?, byte[]?> message, CancellationToken ct)
    {
        var key = message.Message.Key is { } k ? Encoding.UTF8.GetString(k) : null;
        var eventId = MessagingTelemetry.Header(message.Message.Headers, Contracts.Headers.EventId);
        var eventType = MessagingTelemetry.Header(message.Message.Headers, Contracts.Headers.EventType);
        using var activity = MessagingTelemetry.StartProcess(message, key, _group, eventId, eventType);
        using var scope = _logger.BeginScope(new Dictionary<string, object?> { ["OrderId"] = key, ["EventId"] = eventId });
        try
        {
            var decoded = _decoder.Decode(message);
            await _retry.ExecuteAsync(async token => await _applier.ApplyAsync(decoded, token), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            await _deadLetters.WriteAsync(message, ex, ct);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} messages failed; applying them one by one")]
    private partial void LogBatchFailed(Exception ex, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling failed (attempt {Attempt}); retrying in {DelayMs} ms")]
    private partial void LogRetry(Exception ex, int attempt, double delayMs);
}
