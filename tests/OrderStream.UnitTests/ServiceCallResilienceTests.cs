using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OrderStream.ApiGateway.Http;
using Polly.Timeout;

namespace OrderStream.UnitTests;

/// <summary>The gateway's admin proxy with its real client registration, in front of a stand-in for the owning service.</summary>
public class ServiceCallResilienceTests
{
    [Theory]
    [InlineData("GET", 3)]
    [InlineData("HEAD", 3)]
    [InlineData("POST", 1)]
    [InlineData("PUT", 1)]
    [InlineData("PATCH", 1)]
    [InlineData("DELETE", 1)]
    public async Task A_failing_owner_is_asked_again_only_for_methods_safe_to_repeat(string method, int attempts)
    {
        var owner = new Owner(_ => Task.FromResult(new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)));
        await using var services = Services(owner);

        var context = Request(method, "/admin/inventory/SKU-1", method is "GET" or "HEAD" ? null : """{"quantity": 5}""");
        await services.GetRequiredService<AdminProxy>().ForwardAsync("inventory", context, CancellationToken.None);

        Assert.Equal(attempts, owner.Requests);
    }

    [Fact]
    public async Task A_hung_owner_is_given_up_on_after_the_configured_timeouts()
    {
        var owner = new Owner(async ct =>
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            throw new UnreachableException();
        });
        await using var services = Services(owner,
            ("AttemptTimeout:Timeout", "00:00:00.200"), ("TotalRequestTimeout:Timeout", "00:00:30"), ("Retry:Delay", "00:00:00.010"));

        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAsync<TimeoutRejectedException>(() =>
            services.GetRequiredService<AdminProxy>().ForwardAsync("payment", Request("GET", "/admin/payment/settings"), CancellationToken.None));

        // Three attempts of 200 ms, each cancelled at its own timeout; the total (30 s, far away even on a
        // starved machine) is not what ended the call.
        Assert.Equal(3, owner.Requests);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(550), TimeSpan.FromSeconds(25));
    }

    [Fact]
    public async Task Timeouts_the_library_rejects_stop_the_gateway_at_start()
    {
        // An attempt may not outlast the whole call.
        await using var services = Services(new Owner(_ => throw new UnreachableException()), ("AttemptTimeout:Timeout", "00:00:10"));
        // One failure per proxied service: every client has the pipeline and reads the one section.
        var failures = Assert.Throws<AggregateException>(() => services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Equal(3, failures.InnerExceptions.Count);
        Assert.All(failures.InnerExceptions, e => Assert.Contains("Total request timeout", Assert.IsType<OptionsValidationException>(e).Message));
    }

    private static ServiceProvider Services(Owner owner, params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Services:Inventory"] = "http://inventory.test",
            ["Services:Payment"] = "http://payment.test",
            ["Services:Materializer"] = "http://materializer.test",
        }.Concat(settings.Select(s => KeyValuePair.Create(ServiceCalls.Section + ":" + s.Key, (string?)s.Value)))).Build();
        var services = new ServiceCollection().AddLogging();
        services.ConfigureHttpClientDefaults(client => client.ConfigurePrimaryHttpMessageHandler(() => owner));
        AdminProxy.AddClients(services, configuration);
        return services.BuildServiceProvider();
    }

    private static DefaultHttpContext Request(string method, string path, string? json = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        if (json is null) return context;
        var body = Encoding.UTF8.GetBytes(json);
        context.Request.Body = new MemoryStream(body);
        context.Request.ContentLength = body.Length;
        context.Request.ContentType = "application/json";
        return context;
    }

    /// <summary>The owning service as the proxy's transport sees it: every request answered by <c>answer</c>.</summary>
    private sealed class Owner(Func<CancellationToken, Task<HttpResponseMessage>> answer) : HttpMessageHandler
    {
        private int _requests;
        public int Requests => _requests;

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            Interlocked.Increment(ref _requests);
            return answer(ct);
        }
    }
}
