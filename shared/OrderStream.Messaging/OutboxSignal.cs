namespace OrderStream.Messaging;

/// <summary>
/// Wakes the relay right after a transaction that wrote outbox rows commits, so an event waits for a
/// commit and not for a poll timer. Several notifications before the relay runs collapse into one.
/// </summary>
public sealed class OutboxSignal
{
    private readonly SemaphoreSlim _pending = new(0, 1);

    public void Notify()
    {
        try { _pending.Release(); }
        catch (SemaphoreFullException) { /* a wake-up is already pending; the relay will see our rows too */ }
    }

    /// <summary>Blocks until a notification or the fallback interval, whichever comes first (the relay has its own thread).</summary>
    public bool Wait(TimeSpan fallback, CancellationToken ct) => _pending.Wait(fallback, ct);
}
