using System.Globalization;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.Hosting.Admin;
using OrderStream.Messaging.DeadLetters;

namespace OrderStream.ApiGateway.Http;

/// <summary>
/// <c>GET /admin/system</c>: the whole system on one page for operators (the dashboard polls it every
/// second). Each part has its own budget and failure: a service that is down or hung is listed as down,
/// the rest still answers, and the call itself is never an error because of it.
/// </summary>
public static class SystemEndpoints
{
    public const int DefaultStuckAfterSeconds = 30;
    private const int MaxStuckAfterSeconds = 7 * 86_400;

    /// <summary>What each service gets to answer its status (and the materializer its order counts).</summary>
    public static readonly TimeSpan ServiceBudget = TimeSpan.FromSeconds(1);

    /// <summary>Counting dead letters reads every dead-letter topic's watermarks, which waits on Kafka.</summary>
    private static readonly TimeSpan DeadLetterBudget = TimeSpan.FromSeconds(2);

    /// <summary>
    /// One plain client per service, without the resilience handler of the other calls: a retry or an open
    /// circuit would only blur which service is down, and the one-second budget is the policy here.
    /// </summary>
    public static void AddClients(IServiceCollection services, IConfiguration configuration)
    {
        foreach (var (service, setting) in GatewayAdmin.ProxiedServices)
            if (configuration[setting] is { Length: > 0 } address)
                services.AddHttpClient(Name(service), c => c.BaseAddress = new Uri(address));
    }

    private static string Name(string service) => "status-" + service;

    public static void MapSystemStatus(this WebApplication app) => app.MapAdminGroup("system").MapGet("", SystemAsync);

    private static async Task<IResult> SystemAsync(HttpContext context, string? stuckAfter, IHttpClientFactory clients, IConfiguration configuration,
        DeadLetterAdmin deadLetterAdmin, ILoggerFactory logs, CancellationToken ct)
    {
        var stuckSeconds = DefaultStuckAfterSeconds;
        if (stuckAfter is not null && !(int.TryParse(stuckAfter, NumberStyles.None, CultureInfo.InvariantCulture, out stuckSeconds) && stuckSeconds <= MaxStuckAfterSeconds))
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["stuckAfter"] = [$"must be whole seconds from 0 to {MaxStuckAfterSeconds}"] });

        var logger = logs.CreateLogger(typeof(SystemEndpoints));
        var caller = new Caller(context.Request, clients, configuration);
        var gateway = ServiceStatusReader.ReadAsync(context.RequestServices, "gateway", ct);
        var others = GatewayAdmin.ProxiedServices.Keys.Select(s => caller.StatusAsync(s, ct)).ToList();
        var orders = caller.OrderCountsAsync(stuckSeconds, ct);
        var deadLetters = DeadLettersAsync(deadLetterAdmin, logger, ct);

        List<SystemServiceStatus> services = [new("gateway", true, await gateway, null), .. await Task.WhenAll(others)];
        return Results.Ok(new SystemStatus(DateTimeOffset.UtcNow, services, await orders, await deadLetters));
    }

    /// <summary>An empty list when Kafka cannot be read in time: the counts are unknown then, and the rest of the page still matters.</summary>
    private static async Task<IReadOnlyList<DeadLetterCount>> DeadLettersAsync(DeadLetterAdmin admin, ILogger logger, CancellationToken ct)
    {
        try
        {
            // The Kafka reads block their thread; on its own one, the budget can give up on them.
            var summaries = await Task.Run(() => admin.SummariesAsync(ct), ct).WaitAsync(DeadLetterBudget, ct);
            return summaries.Select(s => new DeadLetterCount(s.Topic, s.OriginalTopic, s.Messages, s.Waiting)).ToList();
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Dead letters not counted for the system status");
            return [];
        }
    }

    /// <summary>Calls another service on behalf of the operator, with the operator's own credential (the owner checks it again).</summary>
    private sealed class Caller(HttpRequest request, IHttpClientFactory clients, IConfiguration configuration)
    {
        public async Task<SystemServiceStatus> StatusAsync(string service, CancellationToken ct)
        {
            var (status, error) = await GetAsync<ServiceStatus>(service, $"/admin/{service}/status", ct);
            // A service that answered, even with an error, is up; only no answer at all is down.
            return new SystemServiceStatus(service, error is null or { Answered: true }, status, error?.Text);
        }

        public async Task<OrderCounts> OrderCountsAsync(int stuckSeconds, CancellationToken ct)
        {
            var (counts, _) = await GetAsync<Counts>("materializer", $"/orders/counts?stuckAfter={stuckSeconds}", ct);
            return new OrderCounts(counts?.Pending, counts?.Stuck, stuckSeconds, counts?.Unshipped, counts?.ShipWithinSeconds);
        }

        private sealed record Counts(long Pending, long Stuck, long? Unshipped, double? ShipWithinSeconds);

        private sealed record Failure(bool Answered, string Text);

        private async Task<(T? Value, Failure? Error)> GetAsync<T>(string service, string pathAndQuery, CancellationToken ct) where T : class
        {
            if (string.IsNullOrWhiteSpace(configuration[GatewayAdmin.ProxiedServices[service]]))
                return (null, new Failure(false, $"not configured ({GatewayAdmin.ProxiedServices[service].Replace(":", "__")} is not set)"));
            using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
            budget.CancelAfter(ServiceBudget);
            using var message = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
            if (request.Headers.TryGetValue("Authorization", out var token)) message.Headers.TryAddWithoutValidation("Authorization", token.ToArray());
            try
            {
                using var response = await clients.CreateClient(Name(service)).SendAsync(message, budget.Token);
                if (!response.IsSuccessStatusCode)
                    return (null, new Failure(true, $"answered {(int)response.StatusCode} {response.ReasonPhrase}"));
                return (await response.Content.ReadFromJsonAsync<T>(JsonSerializerOptions.Web, budget.Token), null);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                return (null, new Failure(false, $"did not answer within {ServiceBudget.TotalSeconds:0.#} s"));
            }
            // The cause, not the exception's message: that names internal addresses.
            catch (HttpRequestException ex)
            {
                return (null, new Failure(false, $"could not be reached ({(ex.InnerException is SocketException s ? s.SocketErrorCode : ex.HttpRequestError)})"));
            }
            catch (JsonException)
            {
                return (null, new Failure(true, "answered something that is not a status"));
            }
        }
    }
}
