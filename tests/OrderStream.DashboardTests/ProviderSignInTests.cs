using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using OrderStream.Dashboard.Hosting;

namespace OrderStream.DashboardTests;

/// <summary>
/// Which sign-in the dashboard sets up from the <c>Auth</c> settings: the OpenID Connect code flow at the identity
/// provider when an authority is set (compose, as docker-compose.yml sets it), none of it on the local stack.
/// Keycloak does not run here, so these check the settings the flow depends on, not the flow.
/// </summary>
public sealed class ProviderSignInTests
{
    private static IServiceProvider Services(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddDashboardSignIn();
        return builder.Build().Services;
    }

    [Fact]
    public async Task With_an_authority_people_sign_in_by_the_code_flow_with_pkce_as_the_public_client_and_come_back_by_a_get()
    {
        var services = Services(new()
        {
            ["Auth:Authority"] = "http://keycloak:8080/realms/orderstream",
            ["Auth:Issuer"] = "http://localhost:8180/realms/orderstream",
            ["Auth:ClientId"] = "orderstream-dashboard",
        });
        var schemes = services.GetRequiredService<IAuthenticationSchemeProvider>();
        Assert.NotNull(await schemes.GetSchemeAsync(OpenIdConnectDefaults.AuthenticationScheme));
        // Anonymous visitors still land on /login first (its button starts the flow).
        Assert.Equal(CookieAuthenticationDefaults.AuthenticationScheme, (await schemes.GetDefaultChallengeSchemeAsync())!.Name);

        var oidc = services.GetRequiredService<IOptionsMonitor<OpenIdConnectOptions>>().Get(OpenIdConnectDefaults.AuthenticationScheme);
        Assert.Equal("http://keycloak:8080/realms/orderstream", oidc.Authority);
        Assert.Equal("orderstream-dashboard", oidc.ClientId);
        Assert.Null(oidc.ClientSecret); // a public client: the code is bound to the sign-in by PKCE
        Assert.Equal(OpenIdConnectResponseType.Code, oidc.ResponseType);
        Assert.True(oidc.UsePkce);
        Assert.Equal(OpenIdConnectResponseMode.Query, oidc.ResponseMode);
        Assert.Equal(SameSiteMode.Lax, oidc.CorrelationCookie.SameSite);
        Assert.False(oidc.RequireHttpsMetadata); // compose's private network is plain HTTP
        Assert.Equal("http://localhost:8180/realms/orderstream", oidc.TokenValidationParameters.ValidIssuer);
        Assert.Equal("roles", oidc.TokenValidationParameters.RoleClaimType);
        Assert.Equal("/signin-oidc", oidc.CallbackPath); // the realm's one redirect URI
        Assert.Equal("/signout-callback-oidc", oidc.SignedOutCallbackPath);
    }

    [Fact]
    public async Task With_a_key_file_there_is_no_identity_provider_only_the_pasted_token()
    {
        var key = Path.GetTempFileName();
        try
        {
            var services = Services(new() { ["Auth:SigningKeyFile"] = key });
            Assert.Null(await services.GetRequiredService<IAuthenticationSchemeProvider>().GetSchemeAsync(OpenIdConnectDefaults.AuthenticationScheme));
            Assert.NotNull(services.GetRequiredService<TokenSignIn>());
        }
        finally { File.Delete(key); }
    }
}
