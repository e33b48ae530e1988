using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using OrderStream.Dashboard.Gateway;
using OrderStream.Dashboard.Hosting;

namespace OrderStream.DashboardTests;

/// <summary>
/// A bUnit context with MudBlazor's services and a <see cref="GatewayClient"/> whose gateway is
/// <see cref="Gateway"/>, a stub that records requests and answers what the test says. MudBlazor's
/// services are only async-disposable, so the context is disposed asynchronously.
/// </summary>
public abstract class DashboardTestContext : IAsyncLifetime
{
    protected BunitContext Ctx { get; } = new();
    protected StubGateway Gateway { get; } = new();

    protected DashboardTestContext()
    {
        Ctx.Services.AddMudServices();
        Ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        var options = Options.Create(new GatewayOptions { BaseUrl = "http://gateway.test", AdminKey = "test-admin-key-0123456789" });
        var http = new HttpClient(Gateway);
        GatewayClient.Configure(http, options.Value);
        Ctx.Services.AddSingleton(new GatewayClient(http, options));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Ctx.DisposeAsync();
}

/// <summary>Answers each request with the first matching route's response; records every request with its body.</summary>
public sealed class StubGateway : HttpMessageHandler
{
    private readonly List<(HttpMethod Method, string PathPrefix, Func<HttpStatusCode> Status, Func<string> Body)> _routes = [];

    public List<(HttpMethod Method, string Path, string? Body)> Requests { get; } = [];

    public StubGateway On(HttpMethod method, string pathPrefix, HttpStatusCode status, string json)
    {
        _routes.Add((method, pathPrefix, () => status, () => json));
        return this;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(ct);
        var path = request.RequestUri!.PathAndQuery;
        lock (Requests) Requests.Add((request.Method, path, body));
        foreach (var route in _routes)
            if (route.Method == request.Method && path.StartsWith(route.PathPrefix, StringComparison.Ordinal))
                return new HttpResponseMessage(route.Status()) { Content = new StringContent(route.Body(), Encoding.UTF8, "application/json") };
        return new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("{\"title\":\"Not found\"}", Encoding.UTF8, "application/problem+json") };
    }
}
