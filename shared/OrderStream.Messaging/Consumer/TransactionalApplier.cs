using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.Messaging.Consumer;

/// <summary>
/// Applies messages in one transaction: inbox rows first (an event already there is a duplicate and is
/// skipped), then the batch state is loaded for the fresh events, each handler decides on it, the state
/// is saved, the outbox rows are inserted, and one commit; after it the relay is woken and the batch's
/// after-commit step runs. A crash before the commit re-delivers the messages, and the inbox makes every
/// second delivery a no-op. Throws on any failure, with nothing committed.
/// </summary>
internal sealed partial class TransactionalApplier
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
    private readonly OutboxSignal _signal;
    private readonly BatchStep _batch;
    private readonly IHandleInterceptor[] _interceptors;
    private readonly string _group;
    private readonly ILogger<TransactionalApplier> _logger;

    public TransactionalApplier(IServiceProvider services, NpgsqlDataSource db, OutboxSignal signal, BatchStep batch,
        IEnumerable<IHandleInterceptor> interceptors, IOptions<KafkaOptions> options, ILogger<TransactionalApplier> logger) =>
        (_services, _db, _signal, _batch, _interceptors, _group, _logger) = (services, db, signal, batch, interceptors.ToArray(), options.Value.GroupId, logger);

    /// <summary>
    /// One message, under the span its caller started. Its own inbox statement (no RETURNING): this is the
    /// path of every message at low rates and of each retry.
    /// </summary>
    public async Task ApplyAsync(Decoded message, CancellationToken ct)
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
        await HandleAndCommitAsync(scope.ServiceProvider, tx, [message], spanEach: false, ct);
    }

    /// <summary>A lane's messages, each handler under its own message's span (continuing its producer's trace).</summary>
    public async Task ApplyBatchAsync(IReadOnlyList<Decoded> messages, CancellationToken ct)
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
        if (applied.Count > 0) await HandleAndCommitAsync(scope.ServiceProvider, tx, applied, spanEach: true, ct);
        else await tx.CommitAsync(ct);
        if (_logger.IsEnabled(LogLevel.Debug)) LogBatchApplied(messages.Count, applied.Count, applied.Select(m => m.Event.OrderId).Distinct().Count());
    }

    private async Task HandleAndCommitAsync(IServiceProvider scope, NpgsqlTransaction tx, IReadOnlyList<Decoded> messages, bool spanEach, CancellationToken ct)
    {
        var events = new IOrderEvent[messages.Count];
        for (var i = 0; i < events.Length; i++) events[i] = messages[i].Event;
        var state = await _batch.LoadAsync(scope, events, tx, ct);

        var outgoing = new List<OutboxRow>();
        foreach (var message in messages)
        {
            using var activity = spanEach
                ? MessagingTelemetry.StartProcess(message.Message, message.Key, _group, message.Envelope.EventId.ToString(), message.Message.Topic)
                : null;
            var context = new EventContext(message.Envelope);
            foreach (var interceptor in _interceptors) interceptor.BeforeHandle(message.Message.Topic);
            await message.Subscription.Handle(scope, message.Event, state, context, ct);
            Outbox.Prepare(outgoing, context.Outgoing, message.Envelope.EventId);
        }
        await _batch.SaveAsync(scope, state, tx, ct);
        await Outbox.InsertAsync(tx, outgoing, ct);
        await tx.CommitAsync(ct);

        if (outgoing.Count > 0) _signal.Notify();
        try
        {
            await _batch.AfterCommitAsync(scope, state, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            _logger.LogWarning(ex, "After-commit action failed");
        }
    }

    private void CountDuplicate(Decoded message)
    {
        MessagingTelemetry.CountDuplicate(_group, message.Message.Topic);
        LogDuplicate(message.Envelope.EventId, message.Message.Topic);
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Duplicate event {EventId} on {Topic} skipped")]
    private partial void LogDuplicate(Guid eventId, string topic);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch of {Count} messages applied in one transaction: {Applied} new events of {Keys} keys")]
    private partial void LogBatchApplied(int count, int applied, int keys);
}
