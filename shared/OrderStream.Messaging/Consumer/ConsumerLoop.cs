using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace OrderStream.Messaging.Consumer;

/// <summary>
/// The consumer loop: takes what has been fetched (up to <see cref="KafkaOptions.MaxBatchSize"/>), splits
/// it into lanes by partition, has each lane taken to an end by the <see cref="MessageProcessor"/> (one
/// transaction per lane), and only then stores the offsets. The operator controls hook in through
/// <see cref="IConsumeInterceptor"/>; without them there is no pause step.
/// </summary>
internal sealed partial class ConsumerLoop : BackgroundService
{
    private readonly EventSubscriptions _subscriptions;
    private readonly MessageProcessor _processor;
    private readonly ConsumerLagMeter _lag;
    private readonly IConsumeInterceptor[] _interceptors;
    private readonly KafkaOptions _options;
    private readonly ILogger<ConsumerLoop> _logger;
    private readonly ResiliencePipeline _backoff;

    public ConsumerLoop(EventSubscriptions subscriptions, MessageProcessor processor, ConsumerLagMeter lag,
        IEnumerable<IConsumeInterceptor> interceptors, IOptions<KafkaOptions> options, ILogger<ConsumerLoop> logger)
    {
        (_subscriptions, _processor, _lag, _interceptors, _options, _logger) = (subscriptions, processor, lag, interceptors.ToArray(), options.Value, logger);
        _backoff = Transient.TransientPipeline((ex, _, delay) => LogConsumeFailed(ex, (ex as KafkaException)?.Error.Code ?? ErrorCode.Unknown, delay.TotalMilliseconds));
    }

    // Consume() blocks, so the loop gets its own thread instead of holding a pool thread or host start-up.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken ct)
    {
        using var consumer = Build();
        consumer.Subscribe(_subscriptions.Topics);
        MessagingTelemetry.StartCounters(_options.GroupId, _subscriptions.Topics);
        LogStarted(_options.GroupId, string.Join(", ", _subscriptions.Topics));
        var batch = new List<ConsumeResult<byte[]?, byte[]?>>(_options.MaxBatchSize);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                batch.Clear();
                // Broker trouble with nothing taken: back off instead of spinning (static lambda and state: no allocation per poll).
                _backoff.Execute(static (s, _) => s.Loop.Poll(s.Consumer, s.Batch), (Loop: this, Consumer: consumer, Batch: batch), ct);
                _lag.Measure(consumer);
                if (batch.Count == 0 || HeldBack(consumer, batch)) continue;

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

    // Waits for one message, then takes whatever else is already fetched: batches grow with the load.
    private void Poll(IConsumer<byte[]?, byte[]?> consumer, List<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        foreach (var interceptor in _interceptors) interceptor.BeforePoll(consumer);
        try
        {
            var first = consumer.Consume(TimeSpan.FromSeconds(1));
            if (first is { IsPartitionEOF: false }) batch.Add(first);
            while (batch.Count is > 0 and var n && n < _options.MaxBatchSize && consumer.Consume(TimeSpan.Zero) is { } next)
                if (!next.IsPartitionEOF) batch.Add(next);
        }
        catch (ConsumeException ex) when (!ex.Error.IsFatal && batch.Count > 0)
        {
            // Broker trouble after some messages were taken: apply those; the next poll meets the trouble again.
            _logger.LogWarning(ex, "Consume failed ({Code}); applying the {Count} messages taken", ex.Error.Code, batch.Count);
        }
    }

    private bool HeldBack(IConsumer<byte[]?, byte[]?> consumer, List<ConsumeResult<byte[]?, byte[]?>> batch)
    {
        foreach (var interceptor in _interceptors)
            if (interceptor.HoldBack(consumer, batch)) return true;
        return false;
    }

    /// <summary>
    /// Applies a batch: split into lanes by partition number, each lane in one transaction. Returns when
    /// every message is applied, skipped as a duplicate, or dead-lettered. Throws only on shutdown.
    /// </summary>
    private Task ProcessBatchAsync(List<ConsumeResult<byte[]?, byte[]?>> batch, CancellationToken ct)
    {
        var lanes = Math.Min(_options.ConsumerLanes, batch.Count);
        if (lanes <= 1) return _processor.ProcessLaneAsync(batch, ct);
        return Task.WhenAll(batch.GroupBy(m => m.Partition.Value % lanes).Select(lane => Task.Run(() => _processor.ProcessLaneAsync(lane.ToList(), ct), ct)));
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
            GroupId = _options.GroupId,
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
                foreach (var interceptor in _interceptors) interceptor.OnAssigned(); // a paused consumer stays paused on its new partitions
                return _options.ReplayFromStart ? parts.Select(p => new TopicPartitionOffset(p, Offset.Beginning)) : parts.Select(p => new TopicPartitionOffset(p, Offset.Unset));
            })
            .SetPartitionsRevokedHandler((_, parts) => _logger.LogInformation("Revoked {Partitions}", string.Join(", ", parts)))
            .Build();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Consumer {Group} started on {Topics}")]
    private partial void LogStarted(string group, string topics);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consume failed ({Code}); retrying in {DelayMs} ms")]
    private partial void LogConsumeFailed(Exception ex, ErrorCode code, double delayMs);
}
