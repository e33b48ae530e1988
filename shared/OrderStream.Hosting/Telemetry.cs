using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OrderStream.Messaging;

namespace OrderStream.Hosting;

/// <summary>
/// OpenTelemetry, configured by the standard <c>OTEL_*</c> variables. Metrics are always collected and
/// served as Prometheus text on <c>/metrics</c>. Each signal is also exported by OTLP when an endpoint is
/// set for it: <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> for both, or the signal's own
/// <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c> / <c>OTEL_EXPORTER_OTLP_METRICS_ENDPOINT</c>.
/// </summary>
public static class Telemetry
{
    // Polled by Prometheus and by orchestrators every few seconds: not traced (ServiceDefaults also keeps
    // them out of the request metrics).
    private static readonly PathString[] Probes = ["/metrics", "/healthz", "/readyz"];

    internal static void Add(WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(config["OTEL_SERVICE_NAME"]!))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter("OrderStream.*")
                    .AddAspNetCoreInstrumentation()
                    .AddHttpClientInstrumentation()
                    .AddRuntimeInstrumentation()
                    .AddPrometheusExporter();
                if (OtlpEndpoint(config, "METRICS") is { } endpoint) metrics.AddOtlpExporter(endpoint.Apply);
            })
            .WithTracing(tracing =>
            {
                tracing.AddSource(MessagingTelemetry.SourceName);
                if (OtlpEndpoint(config, "TRACES") is not { } endpoint)
                {
                    // Nowhere to send spans, so record none. Messaging spans are still created (unrecorded)
                    // because their context is what travels in the Kafka headers: an order keeps one trace id
                    // across services, and every log line carries it. HTTP and SQL are not instrumented, so
                    // a request or a command costs what it would without OpenTelemetry.
                    tracing.SetSampler(new AlwaysOffSampler());
                    return;
                }
                tracing.AddAspNetCoreInstrumentation(o => o.Filter = context => !IsProbe(context.Request.Path))
                    .AddHttpClientInstrumentation()
                    .AddNpgsql()
                    .AddOtlpExporter(endpoint.Apply);
            });
    }

    private static bool IsProbe(PathString path) => Array.Exists(Probes, path.Equals);

    /// <summary>
    /// Where a signal goes by OTLP: nowhere without an endpoint. The exporter itself reads only the shared
    /// variables, so the signal's own endpoint and protocol (which win over the shared ones) are applied
    /// here; its endpoint is used as given, with no <c>/v1/{signal}</c> appended, as the specification says.
    /// </summary>
    private static OtlpTarget? OtlpEndpoint(IConfiguration config, string signal)
    {
        var own = config[$"OTEL_EXPORTER_OTLP_{signal}_ENDPOINT"];
        if (string.IsNullOrWhiteSpace(own) && string.IsNullOrWhiteSpace(config["OTEL_EXPORTER_OTLP_ENDPOINT"])) return null;
        return new OtlpTarget(string.IsNullOrWhiteSpace(own) ? null : new Uri(own), config[$"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"]);
    }

    private sealed record OtlpTarget(Uri? Endpoint, string? Protocol)
    {
        public void Apply(OtlpExporterOptions options)
        {
            options.Protocol = Protocol switch { "grpc" => OtlpExportProtocol.Grpc, "http/protobuf" => OtlpExportProtocol.HttpProtobuf, _ => options.Protocol };
            if (Endpoint is not null) options.Endpoint = Endpoint;
        }
    }

    /// <summary>Npgsql traces only commands that run inside a span (a request or a message), not the relay's idle polling.</summary>
    /// <remarks>Spans are named by their SQL ("INSERT INTO inbox ...") rather than the database name, so a trace reads as what it did.</remarks>
    internal static void ConfigureNpgsqlTracing(NpgsqlDataSourceBuilder builder) =>
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
}
