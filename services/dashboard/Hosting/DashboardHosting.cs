using MudBlazor.Services;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OrderStream.Dashboard.Gateway;
using OrderStream.Dashboard.Load;

namespace OrderStream.Dashboard.Hosting;

/// <summary>The dashboard's services: configuration, the gateway client, the load test, sign-in, UI and telemetry.</summary>
public static class DashboardHosting
{
    public static WebApplicationBuilder AddDashboard(this WebApplicationBuilder builder)
    {
        // ASPNETCORE_URLS (run.sh, compose) wins; the local default is the contract's port.
        if (string.IsNullOrWhiteSpace(builder.Configuration["urls"])) builder.WebHost.UseUrls("http://127.0.0.1:5090");
        // run.sh runs the build output, not a publish: its static files (MudBlazor's, the app's) are found
        // through the build's static web assets manifest, which only Development reads by default. A
        // publish (the container image) has no manifest, and this does nothing there.
        builder.WebHost.UseStaticWebAssets();
        var services = builder.Services;
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section);
        services.AddOptions<TraceOptions>().BindConfiguration(TraceOptions.Section);
        services.AddOptions<CheckerOptions>().BindConfiguration(CheckerOptions.Section)
            .Configure<IConfiguration>((options, configuration) => options.ReadDatabases(configuration.GetSection(CheckerOptions.Section)));
        var gateway = builder.Configuration.GetSection(GatewayOptions.Section).Get<GatewayOptions>() ?? new GatewayOptions();
        services.AddHttpClient<GatewayClient>(http => GatewayClient.Configure(http, gateway));
        services.AddSingleton<LoadTestService>();

        builder.AddDashboardSignIn();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices();
        services.AddHealthChecks();
        AddTelemetry(builder);
        return builder;
    }

    /// <summary>
    /// Traces by OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set, like the other services, so the
    /// dashboard's calls appear in the same traces as the gateway's; nothing is recorded otherwise.
    /// (shared/OrderStream.Hosting's ServiceDefaults needs a database, so the small part that fits is here.)
    /// </summary>
    private static void AddTelemetry(WebApplicationBuilder builder)
    {
        if (string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"])) return;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(builder.Configuration["OTEL_SERVICE_NAME"] ?? "dashboard"))
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.Filter = c => !c.Request.Path.StartsWithSegments("/healthz") && !c.Request.Path.StartsWithSegments("/readyz"))
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
    }
}
