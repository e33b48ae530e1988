using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.Http.Resilience;
using OrderStream.Contracts;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace OrderStream.ApiGateway.Http;

/// <summary>Reads the order view from the materializer (the gateway never touches another service's database).</summary>
public sealed class MaterializerClient(HttpClient http)
{
    public async Task<OrderView?> GetAsync(Guid orderId, CancellationToken ct)
    {
        using var response = await http.GetAsync($"/orders/{orderId}", ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadFromJsonAsync<OrderView>(EventJson.Options, ct);
    }

    /// <summary>Passes a read (the order list, the stuck orders) through, status and body as the materializer gave them.</summary>
    public async Task<IResult> ForwardAsync(string pathAndQuery, CancellationToken ct)
    {
        using var response = await http.GetAsync(pathAndQuery, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        return Results.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json", statusCode: (int)response.StatusCode);
    }
}

/// <summary>Passes inventory reads, a seller's stock changes and catalogue writes through to the inventory service.</summary>
public sealed class InventoryClient(HttpClient http)
{
    private static readonly string[] ForwardedRequestHeaders = ["Authorization"];

    public async Task<IResult> ForwardAsync(string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        return await AnswerAsync(response, null, ct);
    }

    /// <summary>
    /// Forwards a write (method, body, content type and the caller's credential) and answers with inventory's response.
    /// Not retried (the resilience handler repeats only safe methods), so a write is sent once.
    /// </summary>
    public async Task<IResult> ForwardWriteAsync(string path, HttpContext context, CancellationToken ct)
    {
        var request = context.Request;
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), path) { Content = new StreamContent(request.Body) };
        if (request.ContentType is { } type) forward.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        foreach (var header in ForwardedRequestHeaders)
            if (request.Headers.TryGetValue(header, out var value)) forward.Headers.TryAddWithoutValidation(header, value.ToArray());
        using var response = await http.SendAsync(forward, ct);
        return await AnswerAsync(response, context.Response, ct);
    }

    private static async Task<IResult> AnswerAsync(HttpResponseMessage response, HttpResponse? to, CancellationToken ct)
    {
        if (to is not null && response.Headers.WwwAuthenticate.Count > 0) to.Headers.WWWAuthenticate = response.Headers.WwwAuthenticate.ToString();
        var body = await response.Content.ReadAsStringAsync(ct);
        return Results.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json", statusCode: (int)response.StatusCode);
    }

    /// <summary>A change, body and content type as the caller sent them (inventory validates them); never retried (see <see cref="ServiceCalls"/>).</summary>
    public async Task<IResult> SendAsync(HttpMethod method, string path, HttpRequest request, CancellationToken ct)
    {
        using var forward = new HttpRequestMessage(method, path) { Content = new StreamContent(request.Body) };
        if (request.ContentType is { } type) forward.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        using var response = await http.SendAsync(forward, ct);
        var body = await response.Content.ReadAsStringAsync(ct);
        return Results.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json", statusCode: (int)response.StatusCode);
    }
}

/// <summary>
/// Sends the caller's own bearer token on a call the gateway makes on its behalf: the service called decides
/// again what that caller may see (a customer only their own orders), so the gateway holds no token of its
/// own that could do more than the caller.
/// </summary>
public sealed class CallerToken(IHttpContextAccessor context) : DelegatingHandler
{
    public static IHttpClientBuilder Forward(IHttpClientBuilder client)
    {
        client.Services.AddHttpContextAccessor();
        client.Services.AddTransient<CallerToken>();
        return client.AddHttpMessageHandler<CallerToken>();
    }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (request.Headers.Authorization is null && context.HttpContext?.Request.Headers.Authorization is [{ Length: > 0 } token])
            request.Headers.TryAddWithoutValidation("Authorization", token);
        return base.SendAsync(request, ct);
    }
}

/// <summary>
/// How the gateway calls the other services: every HttpClient it registers goes through
/// <see cref="AddServiceCallResilience"/>, the standard handler of Microsoft.Extensions.Http.Resilience (total
/// timeout, retry, circuit breaker, attempt timeout) with the values below, each overridable under
/// <c>ServiceCalls</c> with the library's option names (<c>ServiceCalls__AttemptTimeout__Timeout=00:00:02</c>,
/// <c>ServiceCalls__CircuitBreaker__BreakDuration</c>, ...). Values the library rejects stop the gateway at start.
/// </summary>
public static class ServiceCalls
{
    public const string Section = "ServiceCalls";

    public static IHttpClientBuilder AddServiceCallResilience(this IHttpClientBuilder client, IConfiguration configuration)
    {
        var pipeline = client.AddStandardResilienceHandler().Configure(Defaults);
        // Bound after the defaults, so it overrides exactly the values it names (the library refuses an empty section).
        var section = configuration.GetSection(Section);
        if (section.Exists()) pipeline.Configure(section);
        return client;
    }

    private static void Defaults(HttpStandardResilienceOptions options)
    {
        // Every call is a primary-key read, a page of 200 rows or an operator's one-row change: milliseconds,
        // never near a second even when the benchmark saturates the machine. An attempt still unanswered after
        // 2 s is a hang. A poll's wait (Gateway__PollWait, Prefer: wait) is spent in the gateway on Redis, never
        // inside one of these calls, so it needs no room here.
        options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(2);
        // The most a caller waits for an answer from this gateway about another service: two attempts and the
        // backoff between them, then a 503.
        options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(5);
        options.Retry.MaxRetryAttempts = 2;
        options.Retry.Delay = TimeSpan.FromMilliseconds(200);
        // Only safe methods (GET, HEAD, OPTIONS) are repeated. Nothing the admin proxy forwards with another
        // method carries an idempotency key, and an attempt that timed out may have been applied: POST
        // /admin/inventory/{sku} adds stock again, PUT sets a level computed against stock that moved since.
        options.Retry.DisableForUnsafeHttpMethods();
        // The library's default (10 % of at least 100 calls in 30 s) would never open on the admin proxy or the
        // trickle of cache misses the materializer sees; half of 10 calls in 10 s failing is an outage. Open, it
        // answers at once for 5 s, then lets one call through to see whether the service is back.
        options.CircuitBreaker.FailureRatio = 0.5;
        options.CircuitBreaker.MinimumThroughput = 10;
        options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(10);
        options.CircuitBreaker.BreakDuration = TimeSpan.FromSeconds(5);
    }

    /// <summary>
    /// Whether <paramref name="ex"/> says another service could not answer (refused, failed, timed out, its
    /// circuit open) rather than that the request was wrong.
    /// </summary>
    public static bool IsUnavailable(Exception ex) => ex is HttpRequestException or ExecutionRejectedException;

    /// <summary>
    /// The 503 problem for a call to <paramref name="service"/> that could not be answered, with Retry-After:
    /// the time left until the circuit lets a call through again when it is open, else 1 s.
    /// </summary>
    public static IResult Unavailable(HttpResponse response, string service, Exception ex)
    {
        var retryAfter = ex is BrokenCircuitException { RetryAfter: { } left } ? Math.Max(1, (int)Math.Ceiling(left.TotalSeconds)) : 1;
        response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        // The cause, not the exception's message: that names internal addresses.
        return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: $"The {service} is unavailable", detail: ex switch
        {
            BrokenCircuitException => $"Calls to the {service} are paused after repeated failures; retry in {retryAfter} s.",
            TimeoutRejectedException => $"The {service} did not answer in time.",
            _ => $"The {service} could not be reached.",
        });
    }
}
