using System.Globalization;
using OrderStream.Contracts;
using OrderStream.Hosting.Admin;

namespace OrderStream.ApiGateway.Http;

/// <summary>
/// Read-only mode: while on, <c>POST /orders</c> answers 503 with <c>Retry-After</c> (maintenance, a
/// draining database) and every read still works. Runtime only: a restart turns it off.
/// </summary>
public sealed class ReadOnlyMode
{
    public const int DefaultRetryAfterSeconds = 30;

    private volatile State _state = new(false, DefaultRetryAfterSeconds);

    public sealed record State(bool Enabled, int RetryAfterSeconds);

    public State Current => _state;

    public State Set(bool enabled, int? retryAfterSeconds) => _state = new State(enabled, retryAfterSeconds ?? _state.RetryAfterSeconds);

    /// <summary>An endpoint filter for every write of the public API.</summary>
    public static ValueTask<object?> Filter(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var state = context.HttpContext.RequestServices.GetRequiredService<ReadOnlyMode>().Current;
        if (!state.Enabled) return next(context);
        context.HttpContext.Response.Headers.RetryAfter = state.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return ValueTask.FromResult<object?>(Results.Problem(statusCode: 503, title: "The API is read-only for now",
            detail: "Orders are not accepted at the moment; reads still work. Retry later."));
    }
}

public static class GatewayAdmin
{
    public sealed record ReadOnlyRequest(bool? Enabled, int? RetryAfterSeconds);

    /// <summary>The owners of the admin endpoints the gateway passes through (every other saga service), by their path segment → address setting.</summary>
    public static readonly IReadOnlyDictionary<string, string> ProxiedServices =
        Catalogue.SagaServices.Where(s => s != Catalogue.ApiGateway).ToDictionary(s => s.Key, s => s.AddressSetting);

    public static void MapGatewayAdmin(this WebApplication app)
    {
        var admin = app.MapAdmin("gateway");
        admin.MapGet("/read-only", (ReadOnlyMode mode) => mode.Current);
        admin.MapPut("/read-only", (ReadOnlyRequest request, ReadOnlyMode mode) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (request.Enabled is null) errors["enabled"] = ["is required (true or false)"];
            if (request.RetryAfterSeconds is < 1 or > 86_400) errors["retryAfterSeconds"] = ["must be from 1 to 86400"];
            return errors.Count > 0 ? Results.ValidationProblem(errors) : Results.Ok(mode.Set(request.Enabled!.Value, request.RetryAfterSeconds));
        });

        // /admin/{service}/... is passed to the service that owns it, path unchanged: one public address
        // for every operator control. The gateway checks the token's admin role first; the owner checks it again.
        foreach (var (service, setting) in ProxiedServices)
        {
            if (string.IsNullOrWhiteSpace(app.Configuration[setting])) continue;
            app.MapAdminGroup(service).Map("/{**rest}", (HttpContext context, AdminProxy proxy, CancellationToken ct) => proxy.ForwardAsync(service, context, ct));
        }
    }
}

/// <summary>Forwards an operator request to the service that owns it, credential included, and answers with its response.</summary>
public sealed class AdminProxy(IHttpClientFactory clients)
{
    private static readonly string[] ForwardedResponseHeaders = ["Retry-After", "WWW-Authenticate"];

    public static void AddClients(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<AdminProxy>();
        foreach (var (service, setting) in GatewayAdmin.ProxiedServices)
            if (configuration[setting] is { Length: > 0 } address)
                services.AddHttpClient(Name(service), c => c.BaseAddress = new Uri(address)).AddServiceCallResilience(configuration);
    }

    private static string Name(string service) => "admin-" + service;

    public async Task<IResult> ForwardAsync(string service, HttpContext context, CancellationToken ct)
    {
        var request = context.Request;
        using var forward = new HttpRequestMessage(new HttpMethod(request.Method), request.Path + request.QueryString);
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            forward.Content = new StreamContent(request.Body);
            if (request.ContentType is { } type) forward.Content.Headers.TryAddWithoutValidation("Content-Type", type);
        }
        // The caller's own token: the owner checks it again (and the gateway has no token of its own).
        if (request.Headers.TryGetValue("Authorization", out var token)) forward.Headers.TryAddWithoutValidation("Authorization", token.ToArray());

        using var response = await clients.CreateClient(Name(service)).SendAsync(forward, ct);
        foreach (var header in ForwardedResponseHeaders)
            if (response.Headers.TryGetValues(header, out var values)) context.Response.Headers[header] = values.ToArray();
        var body = await response.Content.ReadAsStringAsync(ct);
        return Results.Content(body, response.Content.Headers.ContentType?.ToString() ?? "application/json", statusCode: (int)response.StatusCode);
    }
}
