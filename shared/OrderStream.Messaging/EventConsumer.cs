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
/// The consumer loop. It takes what has been fetched (up to <see cref="KafkaOptions.MaxBatchSize"/>),
/// and applies it in one transaction per lane: inbox rows first (an event already there is a
/// duplicate and is skipped), then each handler, then the outbox rows, then one commit; only then are
/// the offsets stored. A crash before the commit re-delivers the batch, and the inbox makes every
/// second delivery a no-op. If a batch fails, its messages are applied again one by one, each with
/// its own retries, so one bad message is dead-lettered ("{topic}.dlq") and the partition moves on.
/// </summary>
public sealed partial class EventConsumer : BackgroundService
{
    private const string InboxSql = """
        INSERT INTO inbox (consumer, event_id, topic) VALUES (@Consumer, @EventId, @Topic)
        ON CONFLICT DO NOTHING
        """;

    private const string BatchInboxSql = """
        INSERT INTO inbox (consumer, event_id, topic)
        SELECT @Consumer, e.event_id, e.topic FROM unnest(@EventIds, @Topics) AS e(event_id, topic)
        ON CONFLICT DO NOTHING
        RETURNING event_id
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
    private readonly KeyValuePair<string, object?> _groupTag;
    private readonly ConsumerControl _control;
    private readonly ConsumerLag _lag;

    public EventConsumer(IServiceProvider services, NpgsqlDataSource db, KafkaProducer producer, OutboxSignal signal,
        EventSubscriptions subscriptions, IOptions<KafkaOptions> options, ILogger<EventConsumer> logger, ConsumerControl control, ConsumerLag lag)
    {
        (_services, _db, _producer, _signal, _subscriptions, _options, _logger, _control, _lag) = (services, db, producer, signal, subscriptions, options.Value, logger, control, lag);
        _group = _options.GroupId;
        _groupTag = new("messaging.consumer.group.name", _group);
        _pipeline = Transient.MessagePipeline((ex, attempt, delay) => LogRetry(ex, attempt, delay.TotalMilliseconds));
        MessagingTelemetry.Meter.CreateObservableGauge("orderstream.consumer.lag", () => _lag.ByTopic.Select(l =>
                new Measurement<long>(l.Value, new("messaging.destination.name", l.Key), _groupTag)),
            "{message}", "Messages behind the end of each topic, summed over this consumer's partitions");
    }

    private long _lagMeasuredAt;

    // Watermarks come from the consumer's last fetch responses (no broker round trip), so this is cheap.
    // Paused partitions are not fetched, though, so their cached ends stop moving while records keep
    // arriving: then the ends (and, for a partition never consumed, the committed offset) are asked of
    // the broker, so an operator watching a paused consumer sees its lag grow.
    private void MeasureLag(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (Environment.TickCount64 - _lagMeasuredAt < 2_000) return;
        _lagMeasuredAt = Environment.TickCount64;
        var paused = _control.Paused;
        try
        {
            var assignment = consumer.Assignment;
            var positions = assignment.ToDictionary(tp => tp, tp => consumer.Position(tp).Value);
            if (paused && positions.Any(p => p.Value < 0))
                foreach (var committed in consumer.Committed(positions.Where(p => p.Value < 0).Select(p => p.Key), TimeSpan.FromSeconds(1)))
                    positions[committed.TopicPartition] = committed.Offset.Value;
            _lag.Set(assignment
                .Select(tp => (tp.Topic, High: End(tp, out var low), Position: positions[tp] >= 0 ? positions[tp] : paused ? low : -1))
                .Where(p => p.High >= 0 && p.Position >= 0)
                .GroupBy(p => p.Topic)
                .ToDictionary(g => g.Key, g => g.Sum(p => Math.Max(0, p.High - p.Position))));
        }
        catch (KafkaException ex)
        {
            // The broker did not answer in time: keep the last measurement rather than hold up the loop.
            _logger.LogDebug(ex, "Lag not measured");
        }

        long End(TopicPartition tp, out long low)
        {
            var w = paused ? consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(1)) : consumer.GetWatermarkOffsets(tp);
            low = w.Low.Value;
            return w.High.Value;
        }
    }

    // Consume() blocks, so the loop gets its own thread instead of holding a pool thread or host start-up.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken ct)
    {
        using var consumer = Build();
        consumer.Subscribe(_subscriptions.Topics);
        MessagingTelemetry.StartCounters(_group, _subscriptions.Topics);
        LogStarted(_group, string.Join(", ", _subscriptions.Topics));
        var batch = new List<ConsumeResult<byte[]?, byte[]?>>(_options.MaxBatchSize);
        var consumeErrors = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                batch.Clear();
                _control.Apply(consumer); // operator pause/resume
                try
                {
                    // Wait for one message, then take whatever else is already fetched: batches grow with the load.
                    var first = consumer.Consume(TimeSpan.FromSeconds(1));
                    if (first is { IsPartitionEOF: false }) batch.Add(first);
                    while (batch.Count is > 0 and var n && n < _options.MaxBatchSize && consumer.Consume(TimeSpan.Zero) is { } next)
                        if (!next.IsPartitionEOF) batch.Add(next);
                    consumeErrors = 0;
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    // Broker trouble: apply what was taken; if nothing, back off instead of spinning.
                    consumeErrors++;
                    _logger.LogWarning(ex, "Consume failed ({Code}); retrying", ex.Error.Code);
                    if (batch.Count == 0)
                    {
                        ct.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(Math.Min(5_000, 50 * Math.Pow(2, Math.Min(consumeErrors, 10)))));
                        continue;
                    }
                }
                MeasureLag(consumer);
                if (batch.Count == 0 || _control.HoldBack(consumer, batch)) continue;

                ProcessBatchAsync(batch, ct).GetAwaiter().GetResult();
                StoreOffsets(consumer, batch);
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

    // Rebalances happen only inside Consume(), on this thread, so the partitions are still ours here.
    private void StoreOffsets(IConsumer<byte[]?, byte[]?> consumer, List<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        foreach (var last in batch.GroupBy(m => m.TopicPartition).Select(g => g.MaxBy(m => m.Offset.Value)!))
        {
            try
            {
                consumer.StoreOffset(last);
            }
            catch (KafkaException ex)
            {
                // The partition was revoked: its new owner re-reads the messages and the inbox skips them.
                _logger.LogInformation("Offset not stored for {Topic} [{Partition}] @{Offset}: {Reason}", last.Topic, last.Partition.Value, last.Offset.Value, ex.Error.Reason);
            }
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
            GroupProtocol = _options.GroupProtocol,
            FetchWaitMaxMs = _options.FetchWaitMaxMs,
        };
        if (_options.GroupProtocol == GroupProtocol.Classic) config.SessionTimeoutMs = _options.SessionTimeoutMs;
        return new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, e) => _logger.LogWarning("Kafka consumer error {Code}: {Reason}", e.Code, e.Reason))
            .SetLogHandler((_, m) => _logger.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message))
            .SetPartitionsAssignedHandler((_, parts) =>
            {
                _logger.LogInformation("Assigned {Partitions}{Replay}", string.Join(", ", parts), _options.ReplayFromStart ? " (replaying from the start)" : "");
                _control.OnAssigned(); // a paused consumer stays paused on its new partitions
                return _options.ReplayFromStart ? parts.Select(p => new TopicPartitionOffset(p, Offset.Beginning)) : parts.Select(p => new TopicPartitionOffset(p, Offset.Unset));
            })
            .SetPartitionsRevokedHandler((_, parts) => _logger.LogInformation("Revoked {Partitions}", string.Join(", ", parts)))
            .Build();
    }

    /// <summary>
    /// Applies a batch: split into lanes by partition number, each lane in one transaction. Returns when
    /// every message is applied, skipped as a duplicate, or dead-lettered. Throws only on shutdown.
    /// </summary>
    public Task ProcessBatchAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        var lanes = Math.Min(_options.ConsumerLanes, batch.Count);
        if (lanes <= 1) return ProcessLaneAsync(batch, ct);
        return Task.WhenAll(batch.GroupBy(m => m.Partition.Value % lanes).Select(lane => Task.Run(() => ProcessLaneAsync(lane.ToList(), ct), ct)));
    }

    private async Task ProcessLaneAsync(IReadOnlyList<ConsumeResult<byte[]?, byte[]?>> messages, CancellationToken ct)
    {
        if (messages.Count == 1)
        {
            await ProcessAsync(messages[0], ct);
            return;
        }

        var decoded = new List<Decoded>(messages.Count);
        foreach (var message in messages)
        {
            try { decoded.Add(Decode(message)); }
            catch (PermanentMessageException ex) { await DeadLetterAsync(message, ex, ct); }
        }

        try
        {
            await ApplyBatchAsync(decoded, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // Nothing of the batch was committed: apply each message on its own, so a failing one is
            // retried and dead-lettered alone and the rest still go through.
            LogBatchFailed(ex, decoded.Count);
            foreach (var d in decoded) await ProcessAsync(d.Message, ct);
        }
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
            var decoded = Decode(message);
            await _pipeline.ExecuteAsync(async token => await ApplyAsync(decoded, token), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            await DeadLetterAsync(message, ex, ct);
        }
    }

    private sealed record Decoded(ConsumeResult<byte[]?, byte[]?> Message, string Key, Subscription Subscription, Envelope Envelope, IOrderEvent Event);

    private Decoded Decode(ConsumeResult<byte[]?, byte[]?> message)
    {
        var key = message.Message.Key is { } k ? Encoding.UTF8.GetString(k) : null;
        var eventType = MessagingTelemetry.Header(message.Message.Headers, Contracts.Headers.EventType);
        var subscription = _subscriptions.For(message.Topic);
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
            return new Decoded(message, key, subscription, envelope, evt);
        }
        catch (JsonException ex)
        {
            throw new PermanentMessageException($"Malformed event: {ex.Message}", ex);
        }
    }

    private async Task ApplyAsync(Decoded message, CancellationToken ct)
    {
        await using var scope = _services.CreateAsyncScope();
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var fresh = await conn.ExecuteAsync(new CommandDefinition(InboxSql, new { Consumer = _group, message.Envelope.EventId, Topic = message.Message.Topic }, tx, cancellationToken: ct));
        if (fresh == 0)
        {
            CountDuplicate(message);
            return;
        }

        var work = new TransactionWork([message.Event]);
        var context = new EventContext(message.Envelope, tx, work);
        _control.BeforeHandle(message.Message.Topic); // operator-injected failures
        await message.Subscription.Handle(scope.ServiceProvider, message.Event, context, ct);
        await work.RunBeforeCommitAsync(ct);
        var outgoing = new List<OutboxRow>(context.Outgoing.Count);
        Outbox.Prepare(outgoing, context.Outgoing, message.Envelope.EventId);
        await Outbox.InsertAsync(tx, outgoing, ct);
        await tx.CommitAsync(ct);
        await AfterCommitAsync(outgoing.Count, work.AfterCommit, ct);
    }

    private async Task ApplyBatchAsync(List<Decoded> messages, CancellationToken ct)
    {
        if (messages.Count == 0) return;
        await using var scope = _services.CreateAsyncScope();
        await using var conn = await _db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var fresh = (await conn.QueryAsync<Guid>(new CommandDefinition(BatchInboxSql, new
        {
            Consumer = _group,
            EventIds = messages.Select(m => m.Envelope.EventId).ToArray(),
            Topics = messages.Select(m => m.Message.Topic).ToArray(),
        }, tx, cancellationToken: ct))).ToHashSet();

        var applied = new List<Decoded>(messages.Count);
        foreach (var message in messages)
        {
            // Remove, not Contains: a copy of the event later in the same batch is a duplicate too.
            if (fresh.Remove(message.Envelope.EventId)) applied.Add(message);
            else CountDuplicate(message);
        }

        var work = new TransactionWork(applied.Select(m => m.Event).ToList());
        var outgoing = new List<OutboxRow>();
        foreach (var message in applied)
        {
            // Each message keeps its own span (continuing its producer's trace) around its handler and outbox rows.
            using var activity = MessagingTelemetry.StartProcess(message.Message, message.Key, _group, message.Envelope.EventId.ToString(), message.Message.Topic);
            var context = new EventContext(message.Envelope, tx, work);
            _control.BeforeHandle(message.Message.Topic); // operator-injected failures
            await message.Subscription.Handle(scope.ServiceProvider, message.Event, context, ct);
            Outbox.Prepare(outgoing, context.Outgoing, message.Envelope.EventId);
        }
        await work.RunBeforeCommitAsync(ct);
        await Outbox.InsertAsync(tx, outgoing, ct);
        await tx.CommitAsync(ct);
        if (_logger.IsEnabled(LogLevel.Debug)) LogBatchApplied(messages.Count, applied.Count, work.Events.Select(e => e.OrderId).Distinct().Count());
        await AfterCommitAsync(outgoing.Count, work.AfterCommit, ct);
    }

    private async Task AfterCommitAsync(int published, IReadOnlyList<Func<CancellationToken, Task>> actions, CancellationToken ct)
    {
        if (published > 0) _signal.Notify();
        if (actions.Count == 0) return;
        // Best effort and independent of each other (cache refreshes), so they run side by side.
        await Task.WhenAll(actions.Select(async action =>
        {
            try { await action(ct); }
            catch (Exception ex) when (ex is not OperationCanceledException) { _logger.LogWarning(ex, "After-commit action failed"); }
        }));
    }

    private void CountDuplicate(Decoded message)
    {
        MessagingTelemetry.CountDuplicate(_group, message.Message.Topic);
        LogDuplicate(message.Envelope.EventId, message.Message.Topic);
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
        MessagingTelemetry.CountDeadLetter(_group, message.Topic);
        LogDeadLettered(error, message.Topic, message.Partition.Value, message.Offset.Value);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Group} started on {Topics}")]
    private partial void LogStarted(string group, string topics);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Duplicate event {EventId} on {Topic} skipped")]
    private partial void LogDuplicate(Guid eventId, string topic);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch of {Count} messages applied in one transaction: {Applied} new events of {Keys} keys")]
    private partial void LogBatchApplied(int count, int applied, int keys);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A batch of {Count} messages failed; applying them one by one")]
    private partial void LogBatchFailed(Exception ex, int count);

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
