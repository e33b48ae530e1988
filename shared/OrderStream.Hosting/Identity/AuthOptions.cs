using System.ComponentModel.DataAnnotations;

namespace OrderStream.Hosting.Identity;

/// <summary>
/// How a service validates bearer tokens, bound from the <c>Auth</c> section: <c>Auth__Audience</c>,
/// <c>Auth__Issuer</c>, and exactly one of <c>Auth__Authority</c> (an OIDC issuer whose signing keys come
/// by discovery: Keycloak in compose and Kubernetes) or <c>Auth__SigningKeyFile</c> (a PEM RSA public key:
/// the local stack and the tests, whose tokens deploy/OrderStream.Stack mints).
/// </summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "Auth";
    public const string DefaultAudience = "orderstream";
    public const string LocalIssuer = "orderstream-local";

    /// <summary>The <c>aud</c> a token must name.</summary>
    public string Audience { get; set; } = DefaultAudience;

    /// <summary>
    /// The <c>iss</c> a token must carry. Unset: <see cref="LocalIssuer"/> with a key file, the discovery
    /// document's issuer with an authority.
    /// </summary>
    public string? Issuer { get; set; }

    /// <summary>The OIDC issuer URL whose <c>/.well-known/openid-configuration</c> gives the signing keys.</summary>
    public string? Authority { get; set; }

    /// <summary>A PEM file holding the RSA public key tokens are signed with.</summary>
    public string? SigningKeyFile { get; set; }

    /// <summary>
    /// How far a token's <c>exp</c>/<c>nbf</c> may be off: small, because a token outliving its expiry by the
    /// library's default of 5 minutes would be 5 minutes of access nobody granted.
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The issuer checked, or null to take the one the authority's discovery document names.</summary>
    public string? EffectiveIssuer => !string.IsNullOrWhiteSpace(Issuer) ? Issuer : string.IsNullOrWhiteSpace(Authority) ? LocalIssuer : null;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var hasAuthority = !string.IsNullOrWhiteSpace(Authority);
        var hasKeyFile = !string.IsNullOrWhiteSpace(SigningKeyFile);
        // No built-in key: a service that started without one would either accept nothing or, worse, be
        // configured later by someone who "just" turns validation off.
        if (hasAuthority == hasKeyFile)
            yield return new ValidationResult(
                "Set exactly one of Auth__Authority (an OIDC issuer URL) or Auth__SigningKeyFile (a PEM RSA public key file): every service validates bearer tokens.",
                [nameof(Authority), nameof(SigningKeyFile)]);
        if (hasAuthority && !Uri.TryCreate(Authority, UriKind.Absolute, out _))
            yield return new ValidationResult("Auth__Authority must be an absolute URL.", [nameof(Authority)]);
        if (hasKeyFile && !File.Exists(SigningKeyFile))
            yield return new ValidationResult($"Auth__SigningKeyFile: no file at '{SigningKeyFile}'.", [nameof(SigningKeyFile)]);
        if (string.IsNullOrWhiteSpace(Audience))
            yield return new ValidationResult("Auth__Audience must not be empty.", [nameof(Audience)]);
        if (ClockSkew < TimeSpan.Zero || ClockSkew > TimeSpan.FromMinutes(5))
            yield return new ValidationResult("Auth__ClockSkew must be from 00:00:00 to 00:05:00.", [nameof(ClockSkew)]);
    }
}
