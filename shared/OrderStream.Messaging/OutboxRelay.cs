using System.Diagnostics;
using System.Text;
using Confluent.Kafka;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.Messaging;

/// <summary>
/// The only publisher: reads unsent outbox rows in id order, produces them (idempotent, acks=all)
/// and stamps them sent. A batch stops at the first failed delivery so that a later event of an order
/// never overtakes an earlier one; the unsent rest is published again. That is at least once: a row whose
/// delivery timed out on the client after the broker appended it, or a crash between the delivery and
/// the commit of "sent", gives a copy, and consumers' inboxes skip it.
/// </summary>
public sealed partial class OutboxRelay(
    NpgsqlDataSource db,
    KafkaProducer producer,
    OutboxSignal signal,
    IOptions<OutboxOptions> options,
    ILogger<OutboxRelay> logger) : BackgroundService
{
    // Only one relay per outbox works at a time (a transaction-scoped advisory lock), so two instances
    // of a service never publish one order's events out of order. Reading by id order (not by an id
    // high-water mark) is safe because an order's later event is always committed after its earlier one.
    // The lock is tried in the same statement as the read (a materialized CTE runs it once, before the
    // rows): one round trip per batch instead of two. Without the lock the statement returns no rows,
    // which the relay treats as an idle outbox.
    private const string LockAndSelectSql = """
        WITH relay AS MATERIALIZED (SELECT pg_try_advisory_xact_lock(hashtext('orderstream.outbox')) AS locked)
        SELECT id, event_id AS EventId, topic, msg_key AS Key, event_type AS EventType, payload,
               traceparent AS TraceParent, tracestate AS TraceState
        FROM outbox WHERE (SELECT locked FROM relay) AND sent_at IS NULL ORDER BY id LIMIT @Limit
        """;

    private const string MarkSentSql = "UPDATE outbox SET sent_at = now() WHERE id = ANY(@Ids)";

    private readonly OutboxBacklog _backlog = new(db);

    /// <summary>Outbox rows not yet published, as measured every few seconds (the depth gauge shows the same).</summary>
    public long Depth => _backlog.Depth;

    private sealed record Row(long Id, Guid EventId, string Topic, string Key, string EventType, byte[] Payload, string? TraceParent, string? TraceState);

    // The relay runs on its own thread with blocking I/O, not on the thread pool: when a flood of HTTP
    // requests fills the pool's queue (the gateway under load), events still leave at once instead of
    // waiting behind the requests, which would slow every saga and so bring yet more polls.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken ct)
    {
        _backlog.RegisterMetrics();
        var pollInterval = TimeSpan.FromMilliseconds(options.Value.PollIntervalMs);
        // Database or broker trouble: back off (capped) and try again; rows stay unsent, never lost.
        var backoff = Transient.UntilShutdownPipeline((ex, _, delay) =>
        {
            LogRelayFailed(ex, delay.TotalMilliseconds);
            producer.ReplaceIfFatal(ex);
        });
        try
        {
            while (!ct.IsCancellationRequested)
            {
                backoff.Execute(static (relay, token) => relay.PublishAll(token), this, ct);
                signal.Wait(pollInterval, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void PublishAll(CancellationToken ct)
    {
        int published;
        do
        {
            _backlog.Measure();
            published = PublishBatch(ct);
        }
        // A partial batch took everything committed so far; rows committed since have signalled, so
        // the wait returns at once for them instead of an empty look-up after every batch.
        while (published == options.Value.BatchSize && !ct.IsCancellationRequested);
    }

    /// <summary>Publishes one batch; returns how many rows were marked sent (0 when idle or another relay holds the lock).</summary>
    private int PublishBatch(CancellationToken ct)
    {
        using var conn = db.OpenConnection();
        using var tx = conn.BeginTransaction();
        var rows = conn.Query<Row>(LockAndSelectSql, new { Limit = options.Value.BatchSize }, tx).AsList();
        if (rows.Count == 0) return 0;

        // Produce them all, then wait for every delivery report (each comes within message.timeout.ms).
        var kafka = producer.Current;
        var errors = new Exception?[rows.Count];
        // Not disposed: after a cancelled wait, delivery reports still arrive and signal it.
        var pending = new CountdownEvent(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            try
            {
                Produce(kafka, rows[i], i, errors, pending);
            }
            catch (KafkaException ex)
            {
                // Refused before it was queued (e.g. the local queue is full): this one and the rest wait for the next batch.
                for (var j = i; j < rows.Count; j++) { errors[j] = ex; pending.Signal(); }
                break;
            }
        }
        pending.Wait(ct);

        // Only the prefix that was delivered counts: a later event of an order must never be marked
        // sent while an earlier one is still to be retried.
        var sent = new List<long>(rows.Count);
        for (var i = 0; i < rows.Count && errors[i] is null; i++) sent.Add(rows[i].Id);
        if (sent.Count > 0)
        {
            try
            {
                conn.Execute(MarkSentSql, new { Ids = sent.ToArray() }, tx);
                tx.Commit();
            }
            catch
            {
                // Delivered but not recorded as sent (the database went away): the next batch publishes them again.
                MessagingTelemetry.Unconfirmed.Add(sent.Count);
                throw;
            }
        }

        if (sent.Count < rows.Count)
        {
            MessagingTelemetry.Unconfirmed.Add(rows.Count - sent.Count);
            throw new KafkaPublishException($"Publishing stopped after {sent.Count} of {rows.Count} outbox rows", errors.First(e => e is not null)!);
        }
        return sent.Count;
    }

    private static void Produce(IProducer<byte[]?, byte[]?> kafka, Row row, int index, Exception?[] errors, CountdownEvent pending)
    {
        var current = Activity.Current;
        var activity = MessagingTelemetry.StartSend(row.Topic, row.Key, row.EventId, row.EventType, row.TraceParent, row.TraceState);
        // The span ends on the delivery thread, so it must not stay current on this one: the relay's next
        // statements (marking the batch sent, the next poll) belong to no order's trace.
        Activity.Current = current;
        var headers = new Confluent.Kafka.Headers
        {
            { Contracts.Headers.EventType, Encoding.UTF8.GetBytes(row.EventType) },
            { Contracts.Headers.EventId, Encoding.UTF8.GetBytes(row.EventId.ToString()) },
        };
        // The send span continues the trace of the request that wrote the row; without a listener
        // the stored context is passed through unchanged.
        var traceParent = activity?.Id ?? row.TraceParent;
        var traceState = activity is null ? row.TraceState : activity.TraceStateString;
        if (traceParent is not null) headers.Add(Contracts.Headers.TraceParent, Encoding.UTF8.GetBytes(traceParent));
        if (traceState is not null) headers.Add(Contracts.Headers.TraceState, Encoding.UTF8.GetBytes(traceState));

        try
        {
            kafka.Produce(row.Topic, new Message<byte[]?, byte[]?> { Key = Encoding.UTF8.GetBytes(row.Key), Value = row.Payload, Headers = headers }, report =>
            {
                // On librdkafka's delivery thread: the span ends when the broker has the message (or refused it).
                if (report.Error.IsError)
                {
                    errors[index] = new KafkaException(report.Error);
                    activity?.SetStatus(ActivityStatusCode.Error, report.Error.Reason);
                }
                else if (activity is { IsAllDataRequested: true })
                {
                    activity.SetTag("messaging.destination.partition.id", report.Partition.Value.ToString());
                    activity.SetTag("messaging.kafka.offset", report.Offset.Value);
                }
                activity?.Dispose();
                pending.Signal();
            });
        }
        catch
        {
            activity?.Dispose();
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox relay failed; retrying in {DelayMs} ms")]
    private partial void LogRelayFailed(Exception ex, double delayMs);
}

public sealed class KafkaPublishException(string message, Exception inner) : Exception(message, inner);
