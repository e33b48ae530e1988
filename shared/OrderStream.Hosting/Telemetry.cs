using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OrderStream.Messaging;

namespace OrderStream.Hosting;

/// <summary>
/// Traces and metrics, exported by OTLP and configured by the standard <c>OTEL_*</c> variables
/// (<c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>, <c>OTEL_SERVICE_NAME</c>,
/// <c>OTEL_TRACES_SAMPLER</c>, <c>OTEL_BSP_*</c>, ...). No endpoint configured: nothing is exported,
/// but trace context is still created and propagated, so every log line carries trace and span ids.
/// </summary>
public static class Telemetry
{
    /// <summary>Activity sources exported: our messaging spans plus the runtime's HTTP server, HTTP client and Npgsql spans.</summary>
    public static readonly string[] Sources = [MessagingTelemetry.SourceName, "Microsoft.AspNetCore", "System.Net.Http", "Npgsql"];

    /// <summary>Meters exported: every OrderStream meter plus ASP.NET Core's request duration.</summary>
    public static readonly string[] Meters = ["OrderStream.*", "Microsoft.AspNetCore.Hosting", "System.Net.Http"];

    internal static void Add(WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        var exporting = !string.IsNullOrWhiteSpace(config["OTEL_EXPORTER_OTLP_ENDPOINT"]) || !string.IsNullOrWhiteSpace(config["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
        if (!exporting)
        {
            // Create (unrecorded) messaging activities anyway: their context travels in the Kafka headers,
            // so one order keeps one trace id across services, and logs carry it.
            ActivitySource.AddActivityListener(new ActivityListener
            {
                ShouldListenTo = source => source.Name == MessagingTelemetry.SourceName,
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.PropagationData,
            });
            return;
        }

        // OpenTelemetry.Extensions.Hosting is not on this machine's package mirror, so the providers are
        // built with the SDK directly and disposed with the container (which flushes them on shutdown).
        var resource = ResourceBuilder.CreateDefault().AddService(config["OTEL_SERVICE_NAME"]!);
        builder.Services.AddSingleton(_ => Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddSource(Sources)
            .AddOtlpExporter()
            .Build());
        builder.Services.AddSingleton(_ => Sdk.CreateMeterProviderBuilder()
            .SetResourceBuilder(resource)
            .AddMeter(Meters)
            .AddOtlpExporter()
            .Build());
        builder.Services.AddHostedService<ProviderActivator>();
    }

    /// <summary>
    /// ASP.NET Core's server span carries no attributes of its own here (its instrumentation package is
    /// not available), so name it "{method} {route}" and add the HTTP semantic-convention attributes.
    /// </summary>
    internal static async Task EnrichServerSpan(HttpContext context, RequestDelegate next)
    {
        await next(context);
        if (context.Features.Get<IHttpActivityFeature>()?.Activity is not { } activity) return;
        var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
        var status = context.Response.StatusCode;
        activity.DisplayName = $"{context.Request.Method} {route ?? context.Request.Path}";
        activity.SetTag("http.request.method", context.Request.Method);
        activity.SetTag("http.route", route);
        activity.SetTag("url.path", context.Request.Path.Value);
        activity.SetTag("http.response.status_code", status);
        if (status >= 500) activity.SetStatus(ActivityStatusCode.Error);
    }

    /// <summary>Npgsql traces only commands that run inside a span (a request or a message), not the relay's idle polling.</summary>
    /// <remarks>Spans are named by their SQL ("INSERT INTO inbox ...") rather than the database name, so a trace reads as what it did.</remarks>
    internal static void ConfigureNpgsqlTracing(Npgsql.NpgsqlDataSourceBuilder builder) =>
        builder.ConfigureTracing(o => o
            .ConfigureCommandFilter(_ => Activity.Current is not null)
            .ConfigureBatchFilter(_ => Activity.Current is not null)
            .ConfigureCommandSpanNameProvider(command => SqlSpanName(command.CommandText))
            .EnableFirstResponseEvent(false));

    private static string SqlSpanName(string sql)
    {
        var words = sql.Split((char[])[' ', '\n', '\r', '\t'], 6, StringSplitOptions.RemoveEmptyEntries);
        return string.Join(' ', words.Take(5)).TrimEnd(',', '(');
    }

    private sealed class ProviderActivator(TracerProvider tracer, MeterProvider meter) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) { _ = (tracer, meter); return Task.CompletedTask; }
        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
