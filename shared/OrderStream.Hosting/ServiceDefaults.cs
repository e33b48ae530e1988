using System.Diagnostics;
using System.Reflection;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using OrderStream.Messaging;
using Polly;
using Polly.Retry;

namespace OrderStream.Hosting;

/// <summary>
/// What every OrderStream service shares, in two calls: <see cref="AddServiceDefaults"/> on the builder
/// (logging, the service's NpgsqlDataSource, health checks, OpenTelemetry, problem details, bearer tokens and role policies) and
/// <see cref="UseServiceDefaultsAsync"/> on the app (migrations, error handling, /healthz, /readyz, /metrics).
/// </summary>
public static class ServiceDefaults
{
    /// <summary>
    /// The service's builder with the defaults applied. The content root is the app's own directory, so
    /// its appsettings.json is found whatever directory the process was started from.
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <param name="serviceName">The service's name: its default consumer group and OpenTelemetry service name.</param>
    public static WebApplicationBuilder CreateBuilder(string[] args, string serviceName)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        // Defaults below every other source, so appsettings.json and environment variables still override them.
        builder.Configuration.Sources.Insert(0, new MemoryConfigurationSource
        {
            InitialData = new Dictionary<string, string?> { ["Kafka:GroupId"] = serviceName, ["OTEL_SERVICE_NAME"] = serviceName },
        });
        return builder.AddServiceDefaults();
    }

    public static WebApplicationBuilder AddServiceDefaults(this WebApplicationBuilder builder)
    {
        builder.Logging.ClearProviders();
        builder.Logging.AddJsonConsole(o =>
        {
            o.IncludeScopes = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
        });
        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);

        var connectionString = builder.Configuration.GetConnectionString("Db");
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException("ConnectionStrings__Db is not set: every service needs its own PostgreSQL database.");
        builder.Services.AddSingleton(_ =>
        {
            var dataSource = new NpgsqlDataSourceBuilder(connectionString) { Name = builder.Environment.ApplicationName };
            // Every statement here is one of a few fixed, parameterized ones, run thousands of times:
            // prepared once per connection, PostgreSQL skips parsing and planning them (unless the
            // connection string says otherwise).
            if (dataSource.ConnectionStringBuilder.MaxAutoPrepare == 0) dataSource.ConnectionStringBuilder.MaxAutoPrepare = 64;
            // Nothing here leaves session state behind (locks are transaction-scoped, no SET, no LISTEN), so a
            // pooled connection need not be reset: that reset is seven statements on every checkout.
            dataSource.ConnectionStringBuilder.NoResetOnClose = true;
            Telemetry.ConfigureNpgsqlTracing(dataSource);
            return dataSource.Build();
        });

        builder.Services.AddProblemDetails();
        Identity.IdentityDefaults.Add(builder.Services);
        Admin.AdminAccess.Add(builder.Services);
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);

        Telemetry.Add(builder);
        return builder;
    }

    /// <summary>
    /// Adds a readiness check on the Kafka cluster. A service that can keep working without the broker
    /// (the gateway: its outbox holds the events) passes <see cref="HealthStatus.Degraded"/>, so an outage
    /// shows on /readyz without taking it out of rotation.
    /// </summary>
    public static IHealthChecksBuilder AddKafkaReadiness(this IHealthChecksBuilder checks, HealthStatus failureStatus = HealthStatus.Unhealthy) =>
        checks.AddCheck<KafkaHealthCheck>("kafka", failureStatus, ["ready"]);

    public static async Task UseServiceDefaultsAsync(this WebApplication app, params Assembly[] migrationAssemblies)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("OrderStream.Migrations");
        // The database may still be starting (compose, a restart): wait for it rather than crash-looping.
        var startup = new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = new PredicateBuilder().Handle<NpgsqlException>(Transient.IsTransient).Handle<System.Net.Sockets.SocketException>(),
            MaxRetryAttempts = 30,
            Delay = TimeSpan.FromSeconds(1),
            OnRetry = a => { logger.LogWarning("Database not reachable yet ({Error}); retrying migrations", a.Outcome.Exception?.Message); return default; },
        }).Build();
        var db = app.Services.GetRequiredService<NpgsqlDataSource>();
        await startup.ExecuteAsync(async ct => await Migrations.ApplyAsync(db, [typeof(OutboxRelay).Assembly, .. migrationAssemblies], logger, ct));
        await Identity.IdentityDefaults.WarmUpAsync(app.Services);

        // A dependency that is down is a 503 the client may retry, not a 500.
        app.Use(async (context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                if (context.Response.StatusCode == StatusCodes.Status503ServiceUnavailable && !context.Response.Headers.ContainsKey("Retry-After"))
                    context.Response.Headers.RetryAfter = "1";
                return Task.CompletedTask;
            });
            await next(context);
        });
        app.UseExceptionHandler(new ExceptionHandlerOptions { StatusCodeSelector = StatusFor });
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        // Probes come from the orchestrator, which holds no token (every other endpoint requires one).
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous().DisableHttpMetrics();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") }).AllowAnonymous().DisableHttpMetrics();
        // Prometheus scrapes it with no credential, as orchestrators probe /healthz; a scrape is not an API request.
        app.MapPrometheusScrapingEndpoint().AllowAnonymous().DisableRateLimiting().DisableHttpMetrics();
    }

    private static int StatusFor(Exception ex) => ex switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        _ when Transient.IsTransient(ex) => StatusCodes.Status503ServiceUnavailable,
        // Another service refused, failed or did not answer in time, or its circuit is open (Polly's
        // TimeoutRejectedException, BrokenCircuitException): it is the dependency that is unavailable.
        HttpRequestException or TaskCanceledException or ExecutionRejectedException => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };
}

internal sealed class DatabaseHealthCheck(NpgsqlDataSource db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var cmd = db.CreateCommand("SELECT 1");
            await cmd.ExecuteScalarAsync(ct);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return HealthCheckResult.Unhealthy("database unreachable", ex);
        }
    }
}

internal sealed class KafkaHealthCheck(KafkaProducer producer) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            // A dependent admin client borrows the producer's connection and is disposed at once
            // (an idle admin client keeps a polling thread busy).
            using var admin = new Confluent.Kafka.DependentAdminClientBuilder(producer.Current.Handle).Build();
            var metadata = admin.GetMetadata(TimeSpan.FromSeconds(2));
            return Task.FromResult(metadata.Brokers.Count > 0 ? HealthCheckResult.Healthy() : new HealthCheckResult(context.Registration.FailureStatus, "no brokers"));
        }
        catch (Confluent.Kafka.KafkaException ex)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, "kafka unreachable", ex));
        }
    }
}
