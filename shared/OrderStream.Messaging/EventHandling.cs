using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.Messaging;

/// <summary>
/// The one shape of a consumer's transaction, which may apply a whole batch of events: load what the
/// batch needs (one round trip), let each event's <see cref="IEventHandler{TEvent, TState}"/> decide on it
/// in memory, save it back before the commit (one round trip). The consumer takes care of the inbox, the
/// outbox, the commit and the offset, around these three steps.
/// </summary>
/// <typeparam name="TState">What the handlers decide on: the book of the transaction's orders.</typeparam>
public interface IBatchEventHandler<TState> where TState : class
{
    /// <summary>Loads (and locks) what every event of the transaction needs, in one round trip.</summary>
    Task<TState> LoadAsync(IReadOnlyList<IOrderEvent> events, NpgsqlTransaction transaction, CancellationToken ct);

    /// <summary>Writes back what the handlers changed, in the same transaction, before the outbox rows and the commit.</summary>
    Task SaveAsync(TState state, NpgsqlTransaction transaction, CancellationToken ct);

    /// <summary>
    /// After the commit, best effort (e.g. refreshing a cache): a failure is logged, and a crash between
    /// the commit and this step skips it, so it must be safe to lose.
    /// </summary>
    Task AfterCommitAsync(TState state, CancellationToken ct) => Task.CompletedTask;
}

/// <summary>
/// Decides one saga event on the transaction's state, in memory, and emits events with
/// <see cref="EventContext.Publish{TEvent}"/>. Handlers hold the business rule and nothing of Kafka or SQL.
/// </summary>
public interface IEventHandler<in TEvent, in TState> where TEvent : IEvent
{
    Task HandleAsync(TEvent evt, TState state, EventContext context, CancellationToken ct);
}

/// <summary>What a handler gets besides the event and the state: the incoming envelope, and where its outgoing events go.</summary>
public sealed class EventContext
{
    private readonly List<OutgoingEvent> _outgoing = [];

    internal EventContext(Envelope envelope) => Envelope = envelope;

    public Envelope Envelope { get; }

    internal IReadOnlyCollection<OutgoingEvent> Outgoing => _outgoing;

    /// <summary>
    /// Records <paramref name="evt"/> in the outbox in this transaction, caused by this event and under its
    /// span; it is published only if the transaction commits.
    /// </summary>
    public void Publish<TEvent>(TEvent evt) where TEvent : IEvent => _outgoing.Add(OutgoingEvent.For(evt));
}

/// <summary>A message that can never succeed (malformed, unknown type or version, invalid payload): it goes straight to the dead-letter topic.</summary>
public sealed class PermanentMessageException(string message, Exception? inner = null) : Exception(message, inner);
