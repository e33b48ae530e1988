using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OrderStream.Contracts;
using Polly;

namespace OrderStream.Messaging;

/// <summary>
/// The consumer loop. Per message: decode → (begin transaction → inbox row → handler → outbox rows →
/// commit) retried with backoff → store the offset. The offset is stored only after the commit, so a
/// crash re-delivers the message and the inbox row makes the second delivery a no-op. A message that
/// can never succeed goes to "{topic}.dlq" with the error, and the partition moves on.
/// </summary>
public sealed partial class EventConsumer : BackgroundService
{
    private const string InboxSql = """
        INSERT INTO inbox (consumer, event_id, topic) VALUES (@Consumer, @EventId, @Topic)
        ON CONFLICT DO NOTHING
        """;

    private readonly IServiceProvider _services;
    private readonly NpgsqlDataSource _db;
    private readonly KafkaProducer _producer;
    private readonly OutboxSignal _signal;
    private readonly EventSubscriptions _subscriptions;
    private readonly KafkaOptions _options;
    private readonly ILogger<EventConsumer> _logger;
    private readonly ResiliencePipeline _pipeline;
    private readonly string _group;

    public EventConsumer(IServiceProvider services, NpgsqlDataSource db, KafkaProducer producer, OutboxSignal signal,
        EventSubscriptions subscriptions, IOptions<KafkaOptions> options, ILogger<EventConsumer> logger)
    {
        (_services, _db, _producer, _signal, _subscriptions, _options, _logger) = (services, db, producer, signal, subscriptions, options.Value, logger);
        _group = _options.GroupId;
        _pipeline = Transient.MessagePipeline((ex, attempt, delay) => LogRetry(ex, attempt, delay.TotalMilliseconds));
        MessagingTelemetry.Meter.CreateObservableGauge("orderstream.consumer.lag", () => _lag.Select(l =>
                new Measurement<long>(l.Value, new("messaging.destination.name", l.Key), new("messaging.consumer.group.name", _group))),
            "{message}", "Messages behind the end of each topic, summed over this consumer's partitions");
    }

    private volatile IReadOnlyDictionary<string, long> _lag = new Dictionary<string, long>();
    private long _lagMeasuredAt;

    // Watermarks come from the consumer's last fetch responses (no broker round trip), so this is cheap.
    private void MeasureLag(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (Environment.TickCount64 - _lagMeasuredAt < 5_000) return;
        _lagMeasuredAt = Environment.TickCount64;
        _lag = consumer.Assignment
            .Select(tp => (tp.Topic, High: consumer.GetWatermarkOffsets(tp).High.Value, Position: consumer.Position(tp).Value))
            .Where(p => p.High >= 0 && p.Position >= 0)
            .GroupBy(p => p.Topic)
            .ToDictionary(g => g.Key, g => g.Sum(p => Math.Max(0, p.High - p.Position)));
    }

    // Consume() blocks, so the loop gets its own thread instead of holding a pool thread or host start-up.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken ct)
    {
        using var consumer = Build();
        consumer.Subscribe(_subscriptions.Topics);
        LogStarted(_group, string.Join(", ", _subscriptions.Topics));
        var consumeErrors = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                ConsumeResult<byte[]?, byte[]?>? message;
                try
                {
                    message = consumer.Consume(TimeSpan.FromSeconds(1));
                    consumeErrors = 0;
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    // Broker trouble: back off instead of spinning, then poll again.
                    consumeErrors++;
                    _logger.LogWarning(ex, "Consume failed ({Code}); retrying", ex.Error.Code);
                    ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Min(5_000, 50 * Math.Pow(2, Math.Min(consumeErrors, 10)))));
                    continue;
                }
                MeasureLag(consumer);
                if (message is null || message.IsPartitionEOF) continue;

                ProcessAsync(message, ct).GetAwaiter().GetResult();
                try
                {
                    consumer.StoreOffset(message);
                }
                catch (KafkaException ex)
                {
                    // The partition was revoked while we worked: its new owner re-reads the message and the inbox skips it.
                    _logger.LogInformation("Offset not stored for {Topic} [{Partition}] @{Offset}: {Reason}", message.Topic, message.Partition.Value, message.Offset.Value, ex.Error.Reason);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            // Leaves the group at once (partitions move now, not after the session timeout) and commits stored offsets.
            try { consumer.Close(); }
            catch (KafkaException ex) { _logger.LogWarning(ex, "Consumer close failed"); }
        }
    }

    private IConsumer<byte[]?, byte[]?> Build()
    {
        var config = new ConsumerConfig
        {
            BootstrapServers = _options.BootstrapServers,
            GroupId = _group,
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = true,
            // Offsets are stored by hand after the database commit; auto-commit only sends what was stored.
            EnableAutoOffsetStore = false,
            // Stored offsets reach the broker within a second, so a crash re-delivers at most about a second of (harmless) duplicates.
            AutoCommitIntervalMs = 1_000,
            SessionTimeoutMs = _options.SessionTimeoutMs,
            FetchWaitMaxMs = _options.FetchWaitMaxMs,
        };
        return new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, e) => _logger.LogWarning("Kafka consumer error {Code}: {Reason}", e.Code, e.Reason))
            .SetLogHandler((_, m) => _logger.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message))
            .SetPartitionsAssignedHandler((_, parts) =>
            {
                _logger.LogInformation("Assigned {Partitions}{Replay}", string.Join(", ", parts), _options.ReplayFromStart ? " (replaying from the start)" : "");
                return _options.ReplayFromStart ? parts.Select(p => new TopicPartitionOffset(p, Offset.Beginning)) : parts.Select(p => new TopicPartitionOffset(p, Offset.Unset));
            })
            .SetPartitionsRevokedHandler((_, parts) => _logger.LogInformation("Revoked {Partitions}", string.Join(", ", parts)))
            .Build();
    }

    /// <summary>Handles one message to completion: applied, skipped as a duplicate, or dead-lettered. Throws only on shutdown.</summary>
    public async Task ProcessAsync(ConsumeResult<byte[]?, byte[]?> message, CancellationToken ct)
    {
        var key = message.Message.Key is { } k ? Encoding.UTF8.GetString(k) : null;
        var eventId = MessagingTelemetry.Header(message.Message.Headers, Contracts.Headers.EventId);
        var eventType = MessagingTelemetry.Header(message.Message.Headers, Contracts.Headers.EventType);
        using var activity = MessagingTelemetry.StartProcess(message, key, _group, eventId, eventType);
        using var scope = _logger.BeginScope(new Dictionary<string, object?> { ["OrderId"] = key, ["EventId"] = eventId });
        try
        {
            var subscription = _subscriptions.For(message.Topic);
            var (envelope, evt) = Decode(subscription, message, key, eventType);
            await _pipeline.ExecuteAsync(async token => await ApplyAsync(subscription, envelope, evt, message.Topic, token), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            await DeadLetterAsync(message, ex, ct);
        }
    }

    private static (Envelope, IOrderEvent) Decode(Subscription subscription, ConsumeResult<byte[]?, byte[]?> message, string? key, string? eventType)
    {
        if (eventType is not null && eventType != message.Topic)
            throw new PermanentMessageException($"Event type '{eventType}' does not belong on topic '{message.Topic}'");
        if (message.Message.Value is not { Length: > 0 } value)
            throw new PermanentMessageException("Empty message body");
        try
        {
            var envelope = JsonSerializer.Deserialize<Envelope>(value, EventJson.Options)
                ?? throw new PermanentMessageException("Null envelope");
            if (envelope.VersionedType != message.Topic)
                throw new PermanentMessageException($"Unknown event type or version '{envelope.VersionedType}' on topic '{message.Topic}'");
            if (envelope.EventId == Guid.Empty)
                throw new PermanentMessageException("Envelope has no event id");
            var evt = subscription.Deserialize(envelope.Payload)
                ?? throw new PermanentMessageException("Null payload");
            if (evt.OrderId == Guid.Empty || key != evt.OrderId.ToString())
                throw new PermanentMessageException($"Message key '{key}' is not the payload's order id '{evt.OrderId}'");
            return (envelope, evt);
        }
        catch (JsonException ex)
        {
            throw new PermanentMessageException($"Malformed event: {ex.Message}", ex);
        }
    }

    private async Task ApplyAsync(Subscription subscription, Envelope envelope, IOrderEvent evt, string topic, CancellationToken ct)
    {
        await using var scope = _services.CreateAsyncScope();
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var fresh = await conn.ExecuteAsync(new CommandDefinition(InboxSql, new { Consumer = _group, envelope.EventId, Topic = topic }, tx, cancellationToken: ct));
        if (fresh == 0)
        {
            LogDuplicate(envelope.EventId, topic);
            MessagingTelemetry.CountDuplicate(_group, topic);
            return;
        }

        var context = new EventContext(envelope, tx);
        await subscription.Handle(scope.ServiceProvider, evt, context, ct);
        await Outbox.WriteAsync(tx, context.Outgoing, envelope.EventId, ct);
        await tx.CommitAsync(ct);

        if (context.Outgoing.Count > 0) _signal.Notify();
        foreach (var action in context.AfterCommitActions)
        {
            try { await action(ct); }
            catch (Exception ex) when (ex is not OperationCanceledException) { _logger.LogWarning(ex, "After-commit action failed for {EventId}", envelope.EventId); }
        }
    }

    private async Task DeadLetterAsync(ConsumeResult<byte[]?, byte[]?> message, Exception error, CancellationToken ct)
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
        // Losing a dead letter would lose the message, so broker trouble here is retried like any transient failure.
        await _pipeline.ExecuteAsync(async token =>
        {
            try { await _producer.Current.ProduceAsync(Topics.DeadLetter(message.Topic), deadLetter, token); }
            catch (Exception ex) { _producer.ReplaceIfFatal(ex); throw; }
        }, ct);
        MessagingTelemetry.DeadLettered.Add(1, new KeyValuePair<string, object?>("messaging.destination.name", message.Topic), new KeyValuePair<string, object?>("messaging.consumer.group.name", _group));
        LogDeadLettered(error, message.Topic, message.Partition.Value, message.Offset.Value);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Group} started on {Topics}")]
    private partial void LogStarted(string group, string topics);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Duplicate event {EventId} on {Topic} skipped")]
    private partial void LogDuplicate(Guid eventId, string topic);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Handling failed (attempt {Attempt}); retrying in {DelayMs} ms")]
    private partial void LogRetry(Exception ex, int attempt, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Dead-lettered {Topic} [{Partition}] @{Offset}")]
    private partial void LogDeadLettered(Exception ex, string topic, int partition, long offset);
}

/// <summary>Headers added to a dead-lettered message, next to its original headers.</summary>
public static class DeadLetterHeaders
{
    public const string OriginalTopic = "dlq-original-topic";
    public const string OriginalPartition = "dlq-original-partition";
    public const string OriginalOffset = "dlq-original-offset";
    public const string ConsumerGroup = "dlq-consumer-group";
    public const string ErrorType = "dlq-error-type";
    public const string ErrorMessage = "dlq-error-message";
    public const string FailedAt = "dlq-failed-at";
}
