using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using OrderStream.Hosting.Identity;

namespace OrderStream.Dashboard.Hosting;

/// <summary>
/// How people sign in to the dashboard, with the same <c>Auth</c> settings as the services
/// (shared/OrderStream.Hosting/Identity). With <c>Auth__Authority</c> (compose, Kubernetes): the OpenID
/// Connect code flow at the identity provider, as the public client <c>Auth__ClientId</c>. With
/// <c>Auth__SigningKeyFile</c> (the local stack): a token from <c>ordersctl token</c>, pasted on
/// <c>/login</c> and validated exactly as the services validate it. Either way a cookie then stands for the
/// person, holding their access token, and each page asks for the role it needs (docs/security.md).
/// </summary>
public static class DashboardSignIn
{
    public const string LoginPath = "/login";
    public const string ProviderLoginPath = "/login/provider";
    public const string ForbiddenPath = "/forbidden";
    public const string DefaultClientId = "orderstream-dashboard";
    private const string IdTokenHint = "id_token_hint";

    public static void AddDashboardSignIn(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        var auth = builder.Configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var authentication = services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.LoginPath = LoginPath;
            o.AccessDeniedPath = ForbiddenPath;
            o.Cookie.Name = "orderstream-dashboard";
            o.Cookie.HttpOnly = true;
            // Lax, not Strict: the way back from the identity provider is a navigation that began on its site,
            // and a Strict cookie set there would not be sent on the next page. Changes are POSTs with an
            // antiforgery token, which Lax does not weaken.
            o.Cookie.SameSite = SameSiteMode.Lax;
            // Never longer than the token inside it (each sign-in sets the expiry to the token's), and never
            // renewed: a cookie that outlived its token would show pages whose every call the gateway refuses.
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = false;
            o.Events.OnRedirectToAccessDenied = RedirectToForbidden;
        });
        if (UsesProvider(auth))
            authentication.AddOpenIdConnect(o => ConfigureProvider(o, auth, builder.Configuration[$"{AuthOptions.Section}:ClientId"] ?? DefaultClientId));
        services.AddSingleton<TokenSignIn>();
        services.AddAuthorization();
        services.AddCascadingAuthenticationState();
        services.AddScoped<SignedInUser>();
    }

    /// <summary>True where people sign in at an identity provider (an authority is set), false where they paste a token.</summary>
    public static bool UsesProvider(AuthOptions auth) => !string.IsNullOrWhiteSpace(auth.Authority);

    private static void ConfigureProvider(OpenIdConnectOptions o, AuthOptions auth, string clientId)
    {
        o.Authority = auth.Authority;
        // Inside compose the provider is reached over plain HTTP on the private network (as the services reach it).
        o.RequireHttpsMetadata = auth.Authority!.StartsWith("https:", StringComparison.OrdinalIgnoreCase);
        o.ClientId = clientId; // a public client: no secret, the code is bound to this sign-in by PKCE
        o.ResponseType = OpenIdConnectResponseType.Code;
        o.UsePkce = true;
        // The code comes back in the query of a top-level GET: a form_post from the provider's site would need
        // SameSite=None cookies, which browsers drop without HTTPS.
        o.ResponseMode = OpenIdConnectResponseMode.Query;
        o.CorrelationCookie.SameSite = SameSiteMode.Lax;
        o.NonceCookie.SameSite = SameSiteMode.Lax;
        o.Scope.Clear();
        o.Scope.Add("openid");
        o.Scope.Add("profile");
        o.MapInboundClaims = false;
        o.SaveTokens = false; // the access token goes in as a claim below, the ID token for sign-out only
        o.GetClaimsFromUserInfoEndpoint = false;
        o.TokenValidationParameters.NameClaimType = "preferred_username";
        o.TokenValidationParameters.RoleClaimType = DashboardUser.RolesClaim;
        // The issuer the services accept; unset, the discovery document's (which is what the provider signs with).
        if (!string.IsNullOrWhiteSpace(auth.Issuer)) o.TokenValidationParameters.ValidIssuer = auth.Issuer;
        o.SignedOutRedirectUri = LoginPath;
        o.Events.OnTokenValidated = context =>
        {
            // The ID token said who signed in; the access token is what the gateway accepts (audience orderstream,
            // roles). It came straight from the provider's token endpoint in exchange for the code, and the gateway
            // validates it again on every call, so it is read here, not validated twice.
            if (context.TokenEndpointResponse?.AccessToken is not { Length: > 0 } accessToken)
            {
                context.Fail("The identity provider returned no access token.");
                return Task.CompletedTask;
            }
            var access = new JsonWebToken(accessToken);
            context.Principal = DashboardUser.From(access);
            context.Properties!.ExpiresUtc = access.ValidTo;
            context.Properties.AllowRefresh = false;
            // For the provider's sign-out (id_token_hint), so signing out of the dashboard ends the provider's session too.
            if (context.TokenEndpointResponse.IdToken is { } idToken)
                context.Properties.StoreTokens([new AuthenticationToken { Name = OpenIdConnectParameterNames.IdToken, Value = idToken }]);
            return Task.CompletedTask;
        };
        o.Events.OnRedirectToIdentityProviderForSignOut = context =>
        {
            // /logout read the ID token before the cookie went; without either hint Keycloak would ask again.
            if (context.Properties.Items.TryGetValue(IdTokenHint, out var hint))
            {
                context.Properties.Items.Remove(IdTokenHint); // the properties travel on, in the state parameter
                if (string.IsNullOrEmpty(context.ProtocolMessage.IdTokenHint)) context.ProtocolMessage.IdTokenHint = hint;
            }
            context.ProtocolMessage.ClientId = clientId;
            return Task.CompletedTask;
        };
        o.Events.OnRemoteFailure = context =>
        {
            // A refused or failed sign-in (the person pressed "back", the code expired) lands on the sign-in page
            // with the reason, not on an error page.
            context.Response.Redirect(QueryHelpers.AddQueryString(LoginPath, "error", context.Failure?.Message ?? "The sign-in did not complete."));
            context.HandleResponse();
            return Task.CompletedTask;
        };
    }

    /// <summary>
    /// A signed-in person without the page's role: to <c>/forbidden</c>, which answers 403 and names the roles
    /// the page needs (from its <c>[Authorize(Roles = ...)]</c>), instead of a bare refusal.
    /// </summary>
    private static Task RedirectToForbidden(RedirectContext<CookieAuthenticationOptions> context)
    {
        var needs = PageAccess.RolesOf(context.HttpContext.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>() ?? []);
        var target = needs.Count == 0 ? context.RedirectUri : QueryHelpers.AddQueryString(context.RedirectUri, "needs", string.Join(',', needs));
        context.Response.Redirect(target);
        return Task.CompletedTask;
    }

    /// <summary>
    /// <c>GET /login/provider</c> (the sign-in page's button): to the identity provider, and back to
    /// <c>returnUrl</c>. <c>POST /logout</c> (a form with the antiforgery token, from the app bar): the cookie
    /// goes, and with a provider its session too.
    /// </summary>
    public static void MapSignInEndpoints(this WebApplication app)
    {
        var auth = app.Configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        if (UsesProvider(auth))
            app.MapGet(ProviderLoginPath, (string? returnUrl) =>
                Results.Challenge(new AuthenticationProperties { RedirectUri = SafeReturnUrl(returnUrl) }, [OpenIdConnectDefaults.AuthenticationScheme]))
                .AllowAnonymous();
        app.MapPost("/logout", async (HttpContext context) =>
        {
            var idToken = UsesProvider(auth) ? await context.GetTokenAsync(OpenIdConnectParameterNames.IdToken) : null;
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            if (!UsesProvider(auth)) return Results.LocalRedirect(LoginPath);
            // The handler sends the browser to the provider's end-session endpoint, which sends it back to /login.
            var properties = new AuthenticationProperties { RedirectUri = LoginPath };
            if (idToken is not null) properties.Items[IdTokenHint] = idToken;
            return Results.SignOut(properties, [OpenIdConnectDefaults.AuthenticationScheme]);
        });
    }

    /// <summary>Only a local path may be a return URL (no open redirect to another site).</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal) && !returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            ? returnUrl : "/";
}
