using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using OrderStream.Hosting.Identity;

namespace OrderStream.ApiGateway.Http;

/// <summary>
/// Per-user limit on <c>POST /orders</c>, bound from <c>RateLimit</c> (<c>RateLimit__PermitsPerSecond</c>,
/// <c>RateLimit__Burst</c>). The defaults are far above what one client of the load tool sends, so they
/// never shape a benchmark; lower them for a public deployment.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimit";

    /// <summary>Sustained orders per second per client.</summary>
    [Range(1, 1_000_000)] public int PermitsPerSecond { get; set; } = 5_000;

    /// <summary>Orders a client may send at once before the sustained rate applies (the bucket's size).</summary>
    [Range(1, 10_000_000)] public int Burst { get; set; } = 10_000;
}

public static class RateLimiting
{
    public const string OrdersPolicy = "orders";

    public static IServiceCollection AddOrderRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(OrdersPolicy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<RateLimitOptions>>().Value;
                return RateLimitPartition.GetTokenBucketLimiter(ClientOf(context), _ => Bucket(options));
            });
            limiter.OnRejected = async (rejected, ct) =>
            {
                var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 1;
                var http = rejected.HttpContext;
                http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = { Status = 429, Title = "Too many orders from this client", Detail = $"Retry after {seconds} s." },
                });
            };
        });
        return services;
    }

    /// <summary>
    /// Who "a client" is: the authenticated subject (the token's <c>sub</c>), which the client cannot choose
    /// (a header could be rotated to get a fresh budget each time). Many users behind one NAT each get their
    /// own budget. The remote address only for a request without a subject, which authorization refuses anyway.
    /// </summary>
    internal static string ClientOf(HttpContext context) =>
        context.User.UserId() is { Length: > 0 } subject
            ? "sub:" + subject
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    // Refilled in small steps rather than once a second, so a client at its limit gets a steady trickle.
    private static TokenBucketRateLimiterOptions Bucket(RateLimitOptions options)
    {
        var (period, tokens) = options.PermitsPerSecond >= 100
            ? (TimeSpan.FromMilliseconds(10), (int)Math.Ceiling(options.PermitsPerSecond / 100.0))
            : (TimeSpan.FromSeconds(1.0 / options.PermitsPerSecond), 1);
        return new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Burst,
            TokensPerPeriod = tokens,
            ReplenishmentPeriod = period,
            QueueLimit = 0,
            AutoReplenishment = true,
        };
    }
}
