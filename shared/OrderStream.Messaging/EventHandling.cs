using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.Messaging;

/// <summary>
/// Handles one saga event inside the consumer's transaction. Handlers hold the business rule and
/// nothing of Kafka: they read and write through <see cref="EventContext.Transaction"/> and emit
/// events with <see cref="EventContext.Publish{TEvent}"/>; the consumer loop takes care of the inbox,
/// the outbox, the commit and the offset.
/// </summary>
public interface IEventHandler<in TEvent> where TEvent : IEvent
{
    Task HandleAsync(TEvent evt, EventContext context, CancellationToken ct);
}

/// <summary>What a handler gets besides the event: the incoming envelope and the open transaction.</summary>
public sealed class EventContext
{
    private readonly List<OutgoingEvent> _outgoing = [];
    private readonly TransactionWork _work;

    internal EventContext(Envelope envelope, NpgsqlTransaction transaction, TransactionWork work) =>
        (Envelope, Transaction, _work) = (envelope, transaction, work);

    public Envelope Envelope { get; }
    public NpgsqlTransaction Transaction { get; }
    public NpgsqlConnection Connection => Transaction.Connection!;

    /// <summary>
    /// Every event this transaction applies, this one included, in order: a handler can load (and lock)
    /// what the whole batch needs in one round trip instead of one per event.
    /// </summary>
    public IReadOnlyList<IOrderEvent> TransactionEvents => _work.Events;

    internal IReadOnlyCollection<OutgoingEvent> Outgoing => _outgoing;

    /// <summary>Records <paramref name="evt"/> in the outbox in this transaction; it is published only if the transaction commits.</summary>
    public void Publish<TEvent>(TEvent evt) where TEvent : IEvent => _outgoing.Add(OutgoingEvent.For(evt));

    /// <summary>
    /// Runs <paramref name="action"/> in the transaction once every event of it has been handled, before
    /// the outbox rows and the commit: a handler that folds a batch in memory writes it back here. Events
    /// are published from the handlers (each under its own event's span and causation), not from here.
    /// </summary>
    public void BeforeCommit(Func<CancellationToken, Task> action) => _work.BeforeCommit.Add(action);

    /// <summary>
    /// Runs <paramref name="action"/> after the commit (best effort, e.g. refreshing a cache). It must
    /// be safe to lose: a crash between commit and the action skips it.
    /// </summary>
    public void AfterCommit(Func<CancellationToken, Task> action) => _work.AfterCommit.Add(action);
}

/// <summary>What the handlers of one consumer transaction left to do before and after its commit.</summary>
internal sealed class TransactionWork(IReadOnlyList<IOrderEvent> events)
{
    public IReadOnlyList<IOrderEvent> Events { get; } = events;
    public List<Func<CancellationToken, Task>> BeforeCommit { get; } = [];
    public List<Func<CancellationToken, Task>> AfterCommit { get; } = [];

    public async Task RunBeforeCommitAsync(CancellationToken ct)
    {
        // Index, not foreach: an action may register another one (which then runs too).
        for (var i = 0; i < BeforeCommit.Count; i++) await BeforeCommit[i](ct);
    }
}

/// <summary>A message that can never succeed (malformed, unknown type or version, invalid payload): it goes straight to the dead-letter topic.</summary>
public sealed class PermanentMessageException(string message, Exception? inner = null) : Exception(message, inner);
