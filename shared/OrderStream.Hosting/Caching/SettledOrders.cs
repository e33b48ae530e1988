using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace OrderStream.Hosting.Caching;

/// <summary>
/// Tells the gateway the moment an order settles, so a poll of a pending order can wait for it instead
/// of being answered "not yet" and asked again and again. The materializer publishes the ids of the
/// settled views it has just cached (<see cref="OrderViewCache.SetAllAsync"/>) on one Redis channel,
/// which every gateway instance listens to. Best effort by design: a message missed (Redis down, a
/// reconnect) only means a waiting poll is answered when its wait runs out, from the cache as it is then.
/// </summary>
public sealed class SettledOrders
{
    public static readonly RedisChannel Channel = new("orderstream:orders:settled", RedisChannel.PatternMode.Literal);

    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _watched = new();

    public SettledOrders(ConnectionMultiplexer redis, ILogger<SettledOrders> logger)
    {
        // Registered even while Redis is down: the multiplexer subscribes again whenever it reconnects.
        redis.GetSubscriber().SubscribeAsync(Channel, (_, message) => Notify((byte[])message!))
            .ContinueWith(t => logger.LogWarning("Subscribing to settled orders failed: {Error}", t.Exception!.InnerException!.Message),
                TaskContinuationOptions.OnlyOnFaulted);
    }

    /// <summary>
    /// Watches <paramref name="orderId"/> from now on; call it before reading the view, so a settlement
    /// right after the read is not missed. Polls of one order at the same time share the watch.
    /// </summary>
    public Watch Start(Guid orderId) => new(this, orderId, _watched.GetOrAdd(orderId, _ => new(TaskCreationOptions.RunContinuationsAsynchronously)));

    /// <summary>The ids of settled orders, 16 bytes each, as one message.</summary>
    public static byte[] Encode(IEnumerable<Guid> orderIds) => orderIds.SelectMany(id => id.ToByteArray()).ToArray();

    private void Notify(byte[] ids)
    {
        for (var i = 0; i + 16 <= ids.Length; i += 16)
            if (_watched.TryRemove(new Guid(ids.AsSpan(i, 16)), out var settled)) settled.TrySetResult();
    }

    public readonly struct Watch(SettledOrders owner, Guid orderId, TaskCompletionSource settled) : IDisposable
    {
        /// <summary>Waits up to <paramref name="timeout"/> for the order to settle; true if it did.</summary>
        public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct)
        {
            await settled.Task.WaitAsync(timeout, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            ct.ThrowIfCancellationRequested();
            return settled.Task.IsCompleted;
        }

        // Unwatched when it did not settle: nothing is left behind for an order that is never polled again.
        public void Dispose() => owner._watched.TryRemove(new KeyValuePair<Guid, TaskCompletionSource>(orderId, settled));
    }
}
