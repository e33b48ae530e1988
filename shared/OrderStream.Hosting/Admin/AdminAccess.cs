using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrderStream.Hosting.Identity;
using OrderStream.Messaging;

namespace OrderStream.Hosting.Admin;

/// <summary>Operator endpoints, bound from the <c>Admin</c> section (<c>Admin__Enabled</c>).</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>False: no <c>/admin</c> endpoint exists at all (404), whatever token is sent.</summary>
    public bool Enabled { get; set; } = true;
}

/// <summary>
/// The <c>/admin</c> surface every service shares: <see cref="MapAdmin"/> gives a service its route group,
/// which requires a bearer token with the <see cref="Roles.Admin"/> role (shared/OrderStream.Hosting/Identity).
/// </summary>
public static class AdminAccess
{
    /// <summary>The policy of every <c>/admin</c> route.</summary>
    public const string Policy = Roles.Admin;

    internal static void Add(IServiceCollection services)
    {
        services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.Section);
        // Pause and injected failures hook into a service's consumer from here, not from the consumer itself.
        services.AddConsumerControls();
    }

    /// <summary>
    /// The service's own operator routes under <c>/admin/{service}</c>, which require the admin role: its
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
