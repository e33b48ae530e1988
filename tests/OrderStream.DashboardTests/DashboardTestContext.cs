using System.Net;
using System.Security.Claims;
using System.Text;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using OrderStream.Dashboard.Gateway;
using OrderStream.Dashboard.Hosting;

namespace OrderStream.DashboardTests;

/// <summary>
/// A bUnit context with MudBlazor's services, a signed-in person (<see cref="Auth"/>: by default the customer
/// <see cref="User"/> with the access token <see cref="AccessToken"/>), and a <see cref="GatewayClient"/> whose
/// gateway is <see cref="Gateway"/>, a stub that records requests and answers what the test says. MudBlazor's
/// services are only async-disposable, so the context is disposed asynchronously.
/// </summary>
public abstract class DashboardTestContext : IAsyncLifetime
{
    public const string User = "bob";
    public const string AccessToken = "token-of-bob";

    protected BunitContext Ctx { get; } = new();
    protected StubGateway Gateway { get; } = new();
    protected BunitAuthorizationContext Auth { get; }

    protected DashboardTestContext()
    {
        Ctx.Services.AddMudServices();
        Ctx.JSInterop.Mode = JSRuntimeMode.Loose;
        Auth = Ctx.AddAuthorization();
        SignIn(User, AccessToken, "customer");
        var options = Options.Create(new GatewayOptions { BaseUrl = "http://gateway.test" });
        var http = new HttpClient(Gateway);
        GatewayClient.Configure(http, options.Value);
        Ctx.Services.AddSingleton(sp => new GatewayClient(http, new SignedInUser(sp.GetRequiredService<AuthenticationStateProvider>())));
    }

    /// <summary>The person the components see, as the dashboard's cookie holds them (sub, roles, access token).</summary>
    protected void SignIn(string user, string accessToken, params string[] roles)
    {
        Auth.SetAuthorized(user);
        Auth.SetRoles(roles);
        Auth.SetClaims([new Claim(DashboardUser.SubjectClaim, user), new Claim(DashboardUser.AccessTokenClaim, accessToken),
            .. roles.Select(r => new Claim(DashboardUser.RolesClaim, r))]);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Ctx.DisposeAsync();
}

/// <summary>Answers each request with the first matching route's response; records every request with its body.</summary>
public sealed class StubGateway : HttpMessageHandler
{
    private readonly List<(HttpMethod Method, string PathPrefix, Func<HttpStatusCode> Status, Func<string> Body)> _routes = [];

    public List<(HttpMethod Method, string Path, string? Body)> Requests { get; } = [];

    /// <summary>The <c>Authorization</c> header of each request, in order (null: none).</summary>
    public List<string?> Authorizations { get; } = [];

    public StubGateway On(HttpMethod method, string pathPrefix, HttpStatusCode status, string json)
    {
        _routes.Add((method, pathPrefix, () => status, () => json));
        return this;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(ct);
        var path = request.RequestUri!.PathAndQuery;
        lock (Requests)
        {
            Requests.Add((request.Method, path, body));
            Authorizations.Add(request.Headers.Authorization?.ToString());
        }
        foreach (var route in _routes)
            if (route.Method == request.Method && path.StartsWith(route.PathPrefix, StringComparison.Ordinal))
                return new HttpResponseMessage(route.Status()) { Content = new StringContent(route.Body(), Encoding.UTF8, "application/json") };
        return new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("{\"title\":\"Not found\"}", Encoding.UTF8, "application/problem+json") };
    }
}
