using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace OrderStream.Dashboard.Hosting;

/// <summary>
/// Sign-in with the operator key. The dashboard holds that key and acts with it, so whoever uses the
/// dashboard must know it: the key is asked once (<c>/login</c>) and a cookie stands for it afterwards.
/// Every page requires the cookie; only <c>/login</c>, the static files and the probes do not.
/// </summary>
public static class OperatorSignIn
{
    public const string LoginPath = "/login";

    public static void AddOperatorSignIn(this IServiceCollection services)
    {
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
        {
            o.LoginPath = LoginPath;
            o.Cookie.Name = "orderstream-dashboard";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
        });
        services.AddAuthorization();
        services.AddCascadingAuthenticationState();
    }

    // Both sides are hashed first, so the comparison takes the same time whatever the lengths, and
    // FixedTimeEquals does not stop at the first differing byte: the time leaks nothing of the key.
    public static bool Matches(string? presented, string? expected) =>
        !string.IsNullOrEmpty(presented) && !string.IsNullOrEmpty(expected)
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));

    /// <summary>Signs the operator in if <paramref name="key"/> is the operator key; false (and nothing set) if not.</summary>
    public static async Task<bool> SignInAsync(HttpContext context, string? key)
    {
        var expected = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value.AdminKey;
        if (!Matches(key?.Trim(), expected?.Trim())) return false;
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator")], CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        return true;
    }

    /// <summary><c>POST /logout</c> (a form with the antiforgery token, from the app bar).</summary>
    public static void MapSignOut(this WebApplication app) =>
        app.MapPost("/logout", async (HttpContext context) =>
        {
            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return Results.LocalRedirect(LoginPath);
        });

    /// <summary>Only a local path may be a return URL (no open redirect to another site).</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal) && !returnUrl.StartsWith("/\\", StringComparison.Ordinal)
            ? returnUrl : "/";
}
