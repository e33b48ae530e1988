using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.IdentityModel.JsonWebTokens;
using OrderStream.Hosting.Identity;

namespace OrderStream.Dashboard.Hosting;

/// <summary>
/// The signed-in person as the dashboard keeps them (in its encrypted, HTTP-only cookie): their id (the
/// token's <c>sub</c>), a display name, their roles, and the access token itself, which the dashboard sends
/// to the gateway on their behalf. The token never reaches the browser's script or URL.
/// </summary>
public static class DashboardUser
{
    public const string SubjectClaim = IdentityDefaults.SubjectClaim;
    public const string NameClaim = "name";
    public const string RolesClaim = IdentityDefaults.RolesClaim;

    /// <summary>The bearer token the gateway is called with (an access token of the identity provider, or a local one).</summary>
    public const string AccessTokenClaim = "access_token";

    /// <summary>The principal for <paramref name="token"/>: who, roles, and the token to call the gateway with.</summary>
    public static ClaimsPrincipal From(JsonWebToken token)
    {
        var subject = token.Subject;
        var claims = new List<Claim>
        {
            new(SubjectClaim, subject),
            // Keycloak's username reads better than its user id; a local token has only sub.
            new(NameClaim, token.TryGetPayloadValue<string>("preferred_username", out var username) && !string.IsNullOrEmpty(username) ? username : subject),
            new(AccessTokenClaim, token.EncodedToken),
        };
        claims.AddRange(token.Claims.Where(c => c.Type == RolesClaim).Select(c => new Claim(RolesClaim, c.Value)));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, "token", NameClaim, RolesClaim));
    }

    // The user's id is identity's Roles.UserId() (the same sub claim), so the dashboard and the gateway agree on it.

    public static string? AccessToken(this ClaimsPrincipal user) => user.FindFirst(AccessTokenClaim)?.Value;

    public static IReadOnlyList<string> RoleNames(this ClaimsPrincipal user) => [.. user.FindAll(RolesClaim).Select(c => c.Value).Distinct()];
}

/// <summary>
/// The person this circuit (or request) belongs to. A Blazor circuit has no HttpContext: its principal is
/// the one the cookie authenticated when the circuit was opened, which <see cref="AuthenticationStateProvider"/> keeps.
/// </summary>
public sealed class SignedInUser(AuthenticationStateProvider authentication)
{
    public async Task<ClaimsPrincipal> PrincipalAsync() => (await authentication.GetAuthenticationStateAsync()).User;

    public async Task<string?> AccessTokenAsync() => (await PrincipalAsync()).AccessToken();
}
