using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OrderStream.Messaging;

namespace OrderStream.Hosting.Admin;

/// <summary>Operator endpoints, bound from the <c>Admin</c> section (<c>Admin__Enabled</c>, <c>Admin__ApiKey</c>).</summary>
public sealed class AdminOptions : IValidatableObject
{
    public const string Section = "Admin";
    public const int MinKeyLength = 16;

    /// <summary>False: no <c>/admin</c> endpoint exists at all (404), whatever credential is sent.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The operator credential, sent as <c>Authorization: Bearer &lt;key&gt;</c> or <c>X-Api-Key: &lt;key&gt;</c>.</summary>
    public string? ApiKey { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // No built-in key: an admin surface that starts without a credential would be open to anyone.
        if (Enabled && (ApiKey is null || ApiKey.Trim().Length < MinKeyLength))
            yield return new ValidationResult(
                $"Admin__ApiKey must be set (at least {MinKeyLength} characters) while Admin__Enabled is true; set Admin__Enabled=false to switch the admin endpoints off.",
                [nameof(ApiKey)]);
    }
}

/// <summary>
/// The <c>/admin</c> surface every service shares: an authentication scheme that checks the operator
/// key in constant time, and <see cref="MapAdmin"/>, which gives a service its protected route group.
/// </summary>
public static class AdminAccess
{
    public const string Scheme = "AdminKey";
    public const string Policy = "Admin";
    public const string ApiKeyHeader = "X-Api-Key";

    internal static void Add(IServiceCollection services)
    {
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // Only the admin policy requires it. As the only scheme it also runs on public requests, where it
        // finds no key and returns at once; a key sent to the public API changes nothing there.
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, AdminKeyHandler>(Scheme, null);
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAuthenticatedUser());
        // Pause and injected failures hook into a service's consumer from here, not from the consumer itself.
        services.AddConsumerControls();
    }

    /// <summary>
    /// The service's own operator routes under <c>/admin/{service}</c>, which require the admin key: its
    /// status and crash, its consumer controls if it consumes events, and whatever the caller adds.
    /// </summary>
    public static RouteGroupBuilder MapAdmin(this WebApplication app, string service)
    {
        var group = app.MapAdminGroup(service);
        group.MapStatusAndCrash(service);
        if (app.Services.GetService<EventSubscriptions>() is not null) group.MapConsumerControls();
        return group;
    }

    /// <summary>
    /// A bare protected route group under <c>/admin/{segment}</c>, for operator routes that are not a
    /// service's own (the gateway's dead letters, and its pass-through to the other services, which must
    /// not answer their status or crash in their place). With <c>Admin__Enabled=false</c> the routes are
    /// built on a detached route builder the app never serves, so they do not exist (404).
    /// </summary>
    public static RouteGroupBuilder MapAdminGroup(this WebApplication app, string segment)
    {
        var options = app.Services.GetRequiredService<IOptions<AdminOptions>>().Value;
        IEndpointRouteBuilder routes = options.Enabled ? app : new DetachedRoutes(app.Services);
        var group = routes.MapGroup($"/admin/{segment}");
        group.RequireAuthorization(Policy);
        return group;
    }

    /// <summary>Whether the admin endpoints are served at all.</summary>
    public static bool Enabled(IServiceProvider services) => services.GetRequiredService<IOptions<AdminOptions>>().Value.Enabled;

    private sealed class DetachedRoutes(IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider { get; } = services;
        public ICollection<EndpointDataSource> DataSources { get; } = [];
        public IApplicationBuilder CreateApplicationBuilder() => new ApplicationBuilder(ServiceProvider);
    }
}

/// <summary>
/// Authenticates the operator key from <c>Authorization: Bearer</c> or <c>X-Api-Key</c>. No key: no
/// result, so the challenge answers 401. A wrong key: a failure, and the challenge answers 403.
/// </summary>
internal sealed class AdminKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IOptions<AdminOptions> admin)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Presented(Request) is not { } presented) return Task.FromResult(AuthenticateResult.NoResult());
        if (!Matches(presented, admin.Value.ApiKey ?? "")) return Task.FromResult(AuthenticateResult.Fail("The admin credential is not valid."));
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator")], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    private static string? Presented(HttpRequest request)
    {
        if (request.Headers[AdminAccess.ApiKeyHeader] is [{ Length: > 0 } key]) return key;
        var authorization = request.Headers.Authorization.ToString();
        return authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && authorization.Length > 7 ? authorization[7..].Trim() : null;
    }

    // Both sides are hashed first so the comparison takes the same time whatever the lengths, and
    // FixedTimeEquals does not stop at the first differing byte: the time leaks nothing of the key.
    private static bool Matches(string presented, string expected) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        if ((await HandleAuthenticateOnceSafeAsync()).Failure is not null)
        {
            await HandleForbiddenAsync(properties);
            return;
        }
        Response.Headers.WWWAuthenticate = "Bearer realm=\"orderstream-admin\"";
        await WriteProblemAsync(StatusCodes.Status401Unauthorized, "An admin credential is required",
            $"Send the operator key as 'Authorization: Bearer <key>' or '{AdminAccess.ApiKeyHeader}: <key>'.");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "The admin credential is not valid", null);

    private async Task WriteProblemAsync(int status, string title, string? detail)
    {
        Response.StatusCode = status;
        await Context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
