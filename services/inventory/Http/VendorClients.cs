using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using OrderStream.Inventory.Domain;
using OrderStream.Inventory.Handlers;

namespace OrderStream.Inventory.Http;

/// <summary>
/// The vendor sync's wiring: its options, one named <see cref="HttpClient"/> per vendor, each with its own
/// standard resilience pipeline of Microsoft.Extensions.Http.Resilience (total timeout → retry → circuit breaker →
/// attempt timeout), so each vendor has its own circuit breaker; the status board and the sync loop. Every pipeline
/// value can be set under <c>Vendors__Resilience</c> with the library's names
/// (<c>Vendors__Resilience__AttemptTimeout__Timeout=00:00:02</c>); the library refuses inconsistent ones at start.
/// </summary>
public static class VendorClients
{
    public const string ResilienceSection = VendorOptions.Section + ":Resilience";

    public static string Name(string vendor) => "vendor-" + vendor;

    public static IServiceCollection AddVendorSync(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<VendorOptions>().BindConfiguration(VendorOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<VendorOptions>, VendorOptionsValidator>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<VendorStatusBoard>();

        var vendors = configuration.GetSection(VendorOptions.Section).Get<VendorOptions>()?.List ?? [];
        var overrides = configuration.GetSection(ResilienceSection);
        foreach (var vendor in vendors)
        {
            // A base URL that is not one is reported by the validation at start.
            if (!Uri.TryCreate(vendor.BaseUrl.TrimEnd('/') + "/", UriKind.Absolute, out var baseAddress)) continue;
            var pipeline = services.AddHttpClient(Name(vendor.Name), c => c.BaseAddress = baseAddress).AddStandardResilienceHandler().Configure(Defaults);
            // Bound after the defaults, so it overrides exactly what it names (the library refuses an empty section).
            if (overrides.Exists()) pipeline.Configure(overrides);
        }
        if (vendors.Count > 0) services.AddHostedService<SyncVendorStock>();
        return services;
    }

    private static void Defaults(HttpStandardResilienceOptions options)
    {
        // A stock list of a few hundred items: a vendor that has not answered in 2 s is treated as down for this round.
        options.AttemptTimeout.Timeout = TimeSpan.FromSeconds(2);
        options.TotalRequestTimeout.Timeout = TimeSpan.FromSeconds(5);
        // One more try for a blip (GET is safe to repeat); the next interval is the real retry.
        options.Retry.MaxRetryAttempts = 1;
        options.Retry.Delay = TimeSpan.FromMilliseconds(500);
        // One sync is two calls at most, so both failing opens the circuit: for a minute the vendor is not called at
        // all (a sync fails at once, "circuit-open"), which spares a vendor that is struggling; then one call tries it.
        options.CircuitBreaker.FailureRatio = 0.5;
        options.CircuitBreaker.MinimumThroughput = 2;
        options.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(30);
        options.CircuitBreaker.BreakDuration = TimeSpan.FromMinutes(1);
    }
}
