using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OrderStream.Contracts;
using StackExchange.Redis;

namespace OrderStream.Hosting.Caching;

/// <summary>
/// The Redis entry per order (<see cref="OrderView.CacheKey"/>), written by the materializer after every
/// change and read by the gateway. The cache is an optimisation only: when Redis is unreachable every
/// call degrades to a miss / no-op and the caller reads the store instead.
/// </summary>
public sealed class OrderViewCache(ConnectionMultiplexer redis, ILogger<OrderViewCache> logger)
{
    // A settled view never changes, so it may live long. A pending one is replaced by the materializer
    // at every change; its TTL only bounds how long a refresh lost to a Redis outage can leave it stale,
    // and it must outlast a busy saga, or every poll of a pending order falls through to the store.
    private static readonly TimeSpan SettledTtl = TimeSpan.FromHours(1);
    private static readonly TimeSpan PendingTtl = TimeSpan.FromSeconds(30);

    private static readonly Meter Meter = new("OrderStream.Cache");
    private static readonly Counter<long> Lookups = Meter.CreateCounter<long>("orderstream.cache.lookups", "{lookup}",
        "Order view cache reads by result (hit, miss, error): the hit ratio is hit / all");

    private static void Count(string result) => Lookups.Add(1, new KeyValuePair<string, object?>("result", result));

    /// <summary>
    /// The cached view as the JSON it is stored as, and whether it is settled: what the gateway sends
    /// as it is, so the hottest request (a poll) neither parses nor re-serializes the view.
    /// </summary>
    public async Task<CachedView?> GetJsonAsync(Guid orderId)
    {
        try
        {
            var value = await redis.GetDatabase().StringGetAsync(OrderView.CacheKey(orderId));
            Count(value.IsNullOrEmpty ? "miss" : "hit");
            if (value.IsNullOrEmpty) return null;
            var json = (byte[])value!;
            return new CachedView(json, OrderStatus.IsTerminal(ReadStatus(json)));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or JsonException)
        {
            Count("error");
            logger.LogWarning("Order cache read failed for {OrderId}: {Error}", orderId, ex.Message);
            return null;
        }
    }

    // The top-level "status" property, without materializing the rest of the view.
    private static string ReadStatus(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        reader.Read();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isStatus = reader.ValueTextEquals("status"u8);
            reader.Read();
            if (isStatus) return reader.GetString() ?? throw new JsonException("Cached view has a null status");
            reader.Skip();
        }
        throw new JsonException("Cached view has no status");
    }

    public Task SetAsync(OrderView view) => WriteAsync(view, When.Always);

    /// <summary>
    /// Caches every view, then tells <see cref="SettledOrders"/> listeners (the gateways, whose polls may
    /// be waiting for these orders) which of them are settled, in one message.
    /// </summary>
    public async Task SetAllAsync(IReadOnlyCollection<OrderView> views)
    {
        await Task.WhenAll(views.Select(SetAsync));
        var settled = views.Where(v => v.IsSettled).Select(v => v.OrderId).ToList();
        if (settled.Count == 0) return;
        try
        {
            await redis.GetSubscriber().PublishAsync(SettledOrders.Channel, SettledOrders.Encode(settled));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("Publishing {Count} settled orders failed: {Error}", settled.Count, ex.Message);
        }
    }

    /// <summary>
    /// Caches <paramref name="view"/> only if the order has no entry yet, so it can never replace a newer
    /// view the materializer wrote (the gateway's view of an order it has just accepted).
    /// </summary>
    public Task AddAsync(OrderView view) => WriteAsync(view, When.NotExists);

    private async Task WriteAsync(OrderView view, When when)
    {
        try
        {
            await redis.GetDatabase().StringSetAsync(OrderView.CacheKey(view.OrderId),
                JsonSerializer.SerializeToUtf8Bytes(view, EventJson.Options), view.IsSettled ? SettledTtl : PendingTtl, when);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            logger.LogWarning("Order cache write failed for {OrderId}: {Error}", view.OrderId, ex.Message);
        }
    }
}

/// <summary>A view's JSON as cached, and whether the order has settled.</summary>
public sealed record CachedView(byte[] Json, bool IsSettled);

public static class CachingServiceCollectionExtensions
{
    /// <summary>
    /// Redis (from <c>Redis__Configuration</c>) and the order view cache. The connection is made when first
    /// resolved and never fails (it reconnects in the background); a service that serves requests resolves
    /// it before taking them (the gateway's Program.cs), since connecting inside a burst of requests starved
    /// the thread pool. That start-up waits at most the connect timeout when Redis is down.
    /// </summary>
    public static IServiceCollection AddOrderViewCache(this IServiceCollection services, IConfiguration configuration)
    {
        var options = ConfigurationOptions.Parse(configuration["Redis:Configuration"] ?? "127.0.0.1:6379");
        options.AbortOnConnectFail = false;
        options.ConnectTimeout = 2_000;
        options.SyncTimeout = 1_000;
        services.AddSingleton(_ => ConnectionMultiplexer.Connect(options));
        services.AddSingleton<OrderViewCache>();
        // Degraded, not unhealthy: without Redis every read is a miss served from the store, so the
        // service stays in rotation and /readyz still shows the cache is gone.
        services.AddHealthChecks().AddCheck<RedisHealthCheck>("redis", HealthStatus.Degraded, ["ready"]);
        return services;
    }
}

internal sealed class RedisHealthCheck(ConnectionMultiplexer redis) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await redis.GetDatabase().PingAsync();
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "redis unreachable", ex);
        }
    }
}
