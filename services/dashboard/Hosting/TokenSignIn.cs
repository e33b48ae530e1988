using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using OrderStream.Hosting.Identity;

namespace OrderStream.Dashboard.Hosting;

/// <summary>
/// Sign-in with a pasted token (the local stack: <c>deploy/local/ordersctl token</c>). The token is validated
/// by the services' own rules (<see cref="IdentityDefaults.Configure"/>: the same key, issuer, audience, RS256
/// only, lifetime), so the dashboard accepts exactly the tokens the gateway will.
/// </summary>
public sealed class TokenSignIn(IOptions<AuthOptions> auth)
{
    private readonly Lazy<JwtBearerOptions> _rules = new(() =>
    {
        var options = new JwtBearerOptions();
        IdentityDefaults.Configure(options, auth.Value);
        return options;
    });

    /// <summary>Signs the person in; null on success, else why the token was refused (and nothing is set).</summary>
    public async Task<string?> SignInAsync(HttpContext context, string? token)
    {
        token = token?.Trim();
        // A token pasted with its header name, as `curl -H` takes it, is still the token.
        if (token?.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) == true) token = token[7..].Trim();
        if (string.IsNullOrEmpty(token)) return "Paste a token.";
        var rules = _rules.Value;
        var result = await new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, rules.TokenValidationParameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            var (title, detail) = IdentityDefaults.Describe(result.Exception);
            return $"{title}. {detail}";
        }
        if (string.IsNullOrEmpty(jwt.Subject)) return "The token names no user (no sub).";
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, DashboardUser.From(jwt), new AuthenticationProperties
        {
            ExpiresUtc = jwt.ValidTo,
            AllowRefresh = false,
        });
        return null;
    }
}
