using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace OrderStream.Hosting.Identity;

/// <summary>
/// Bearer-token authentication and the role policies every service shares (registered by
/// <see cref="ServiceDefaults"/>). Tokens are RS256 only, validated for signature, issuer, audience and
/// lifetime; refusals are problem+json: 401 with <c>WWW-Authenticate: Bearer</c> for a missing or invalid
/// token, 403 for a valid token without the role.
/// </summary>
public static class IdentityDefaults
{
    public const string SubjectClaim = "sub";
    public const string RolesClaim = "roles";
    public const string Realm = "orderstream";

    internal static void Add(IServiceCollection services)
    {
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<IOptions<AuthOptions>>((jwt, auth) => Configure(jwt, auth.Value));

        services.AddAuthorizationBuilder()
            // Deny by default: an endpoint nobody marked is for authenticated callers only, never for anyone.
            // The probes and /metrics say AllowAnonymous themselves.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(Roles.Customer, p => p.RequireRole(Roles.Customer))
            .AddPolicy(Roles.Seller, p => p.RequireRole(Roles.Seller))
            .AddPolicy(Roles.Admin, p => p.RequireRole(Roles.Admin))
            .AddPolicy(Roles.CustomerOrAdmin, p => p.RequireRole(Roles.Customer, Roles.Admin))
            .AddPolicy(Roles.OrderReader, p => p.RequireRole(Roles.Customer, Roles.Seller, Roles.Admin));
    }

    /// <summary>
    /// Builds the bearer options (reading the key file) and runs one throwaway token through the validator
    /// before the service reports ready. Otherwise the first authenticated request pays for loading and
    /// compiling the token stack: right after a restart on a busy machine that took longer than the 1 s the
    /// gateway gives a service to answer its status (ServiceStatusTests' crash-and-restart test saw it).
    /// </summary>
    internal static async Task WarmUpAsync(IServiceProvider services)
    {
        var jwt = services.GetRequiredService<IOptionsMonitor<JwtBearerOptions>>().Get(JwtBearerDefaults.AuthenticationScheme);
        static string Part(string json) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(json));
        // Well formed, RS256, signed by nobody: it is parsed, checked and refused, never accepted.
        var token = $"{Part("""{"alg":"RS256","typ":"JWT"}""")}.{Part("""{"sub":"warm-up","exp":4102444800}""")}.{Base64UrlEncoder.Encode(new byte[256])}";
        foreach (var handler in jwt.TokenHandlers) await handler.ValidateTokenAsync(token, jwt.TokenValidationParameters);
    }

    /// <summary>
    /// The rules a token is validated by, from <paramref name="auth"/>: the services' bearer scheme, and the
    /// dashboard's sign-in with a pasted token (so it accepts exactly the tokens the services accept).
    /// </summary>
    public static void Configure(JwtBearerOptions jwt, AuthOptions auth)
    {
        // The claims as the token names them (sub, roles), not remapped to long WS-* URIs.
        jwt.MapInboundClaims = false;
        jwt.Audience = auth.Audience;
        jwt.TokenValidationParameters = new TokenValidationParameters
        {
            ValidateIssuer = true,
            ValidIssuer = auth.EffectiveIssuer,
            ValidateAudience = true,
            ValidAudience = auth.Audience,
            ValidateLifetime = true,
            RequireExpirationTime = true,
            ClockSkew = auth.ClockSkew,
            ValidateIssuerSigningKey = true,
            RequireSignedTokens = true,
            // RS256 only: no "none", and no HS256 either (a public key used as an HMAC secret is the classic
            // algorithm-confusion attack).
            ValidAlgorithms = [SecurityAlgorithms.RsaSha256],
            NameClaimType = SubjectClaim,
            RoleClaimType = RolesClaim,
        };
        if (!string.IsNullOrWhiteSpace(auth.Authority))
        {
            jwt.Authority = auth.Authority;
            // Inside compose the identity provider is reached over plain HTTP on the private network.
            jwt.RequireHttpsMetadata = auth.Authority.StartsWith("https:", StringComparison.OrdinalIgnoreCase);
        }
        else
        {
            var rsa = RSA.Create();
            rsa.ImportFromPem(File.ReadAllText(auth.SigningKeyFile!));
            jwt.TokenValidationParameters.IssuerSigningKey = new RsaSecurityKey(rsa);
        }
        jwt.Events = new JwtBearerEvents
        {
            OnChallenge = ChallengeAsync,
            OnForbidden = ForbiddenAsync,
        };
    }

    private static async Task ChallengeAsync(JwtBearerChallengeContext context)
    {
        // Ours replaces the handler's bare 401, so the header is written here too (RFC 6750 section 3).
        context.HandleResponse();
        var (title, detail) = Describe(context.AuthenticateFailure);
        var header = $"Bearer realm=\"{Realm}\"";
        if (context.AuthenticateFailure is not null) header += $", error=\"invalid_token\", error_description=\"{title}\"";
        context.Response.Headers.WWWAuthenticate = header;
        await WriteProblemAsync(context.HttpContext, StatusCodes.Status401Unauthorized, title, detail);
    }

    private static Task ForbiddenAsync(ForbiddenContext context) =>
        WriteProblemAsync(context.HttpContext, StatusCodes.Status403Forbidden, "The token does not grant this",
            $"The token is valid, but none of its roles ({string.Join(", ", context.HttpContext.User.FindAll(RolesClaim).Select(c => c.Value).DefaultIfEmpty("none"))}) may do this.");

    // What went wrong, in words a client can act on; never the library's message, which names keys and internals.
    /// <summary>Why a token was refused, as a title and a detail a person can act on (null: no token at all).</summary>
    public static (string Title, string Detail) Describe(Exception? failure) => failure switch
    {
        null => ("A bearer token is required", "Send 'Authorization: Bearer <token>' (locally: deploy/local/ordersctl token --role <role> --user <id>)."),
        SecurityTokenExpiredException => ("The token expired", "Get a new token."),
        SecurityTokenNotYetValidException => ("The token is not valid yet", "Its nbf lies in the future."),
        SecurityTokenInvalidAudienceException => ("The token is for another audience", "Its aud must name this system."),
        SecurityTokenInvalidIssuerException => ("The token's issuer is not trusted", "Its iss is not the identity provider this system trusts."),
        SecurityTokenInvalidAlgorithmException => ("The token's algorithm is not accepted", "Only RS256-signed tokens are accepted."),
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => ("The token's signature is not valid", "It was not signed by the identity provider this system trusts."),
        SecurityTokenNoExpirationException => ("The token has no expiry", "Tokens must carry exp."),
        _ => ("The token is not valid", "It could not be read as a signed JWT."),
    };

    private static async Task WriteProblemAsync(HttpContext http, int status, string title, string detail)
    {
        http.Response.StatusCode = status;
        await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = http,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
