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

    /// <summary>Waits for a notification or the fallback interval, whichever comes first.</summary>
    public Task<bool> WaitAsync(TimeSpan fallback, CancellationToken ct) => _pending.WaitAsync(fallback, ct);
}
