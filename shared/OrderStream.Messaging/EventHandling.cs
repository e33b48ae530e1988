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
public sealed class EventContext(Envelope envelope, NpgsqlTransaction transaction)
{
    private readonly List<OutgoingEvent> _outgoing = [];
    private readonly List<Func<CancellationToken, Task>> _afterCommit = [];

    public Envelope Envelope { get; } = envelope;
    public NpgsqlTransaction Transaction { get; } = transaction;
    public NpgsqlConnection Connection => Transaction.Connection!;

    internal IReadOnlyCollection<OutgoingEvent> Outgoing => _outgoing;
    internal IReadOnlyList<Func<CancellationToken, Task>> AfterCommitActions => _afterCommit;

    /// <summary>Records <paramref name="evt"/> in the outbox in this transaction; it is published only if the transaction commits.</summary>
    public void Publish<TEvent>(TEvent evt) where TEvent : IEvent => _outgoing.Add(OutgoingEvent.For(evt));

    /// <summary>
    /// Runs <paramref name="action"/> after the commit (best effort, e.g. refreshing a cache). It must
    /// be safe to lose: a crash between commit and the action skips it.
    /// </summary>
    public void AfterCommit(Func<CancellationToken, Task> action) => _afterCommit.Add(action);
}

/// <summary>A message that can never succeed (malformed, unknown type or version, invalid payload): it goes straight to the dead-letter topic.</summary>
public sealed class PermanentMessageException(string message, Exception? inner = null) : Exception(message, inner);
