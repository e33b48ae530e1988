using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace OrderStream.Stack;

/// <summary>What a token says: who, which roles, for how long; the rest (issuer, audience) is the issuer's.</summary>
/// <param name="User">The <c>sub</c>: the user id orders are placed and owned under.</param>
/// <param name="Roles">The <c>roles</c> claim (customer, seller, admin).</param>
/// <param name="Lifetime">From now to <c>exp</c>.</param>
public sealed record TokenRequest(string User, IReadOnlyList<string> Roles, TimeSpan Lifetime)
{
    /// <summary>Another <c>aud</c> than the issuer's (tests of a refusal).</summary>
    public string? Audience { get; init; }

    /// <summary>Another <c>iss</c> than the issuer's (tests of a refusal).</summary>
    public string? Issuer { get; init; }

    /// <summary>When the token is issued (and valid from): now unless set (an expired token is issued in the past).</summary>
    public DateTimeOffset? IssuedAt { get; init; }
}

/// <summary>
/// The identity provider of a stack on this machine (deploy/local/run.sh and the tests): an RSA key pair
/// made per start, whose public half every service validates tokens with (<c>Auth__SigningKeyFile</c>), and
/// whose private half mints RS256 tokens (<c>ordersctl token</c>, the load tool, the tests). In compose and
/// Kubernetes Keycloak issues the tokens instead, and this class plays no part.
/// </summary>
public sealed class LocalIdentity
{
    /// <summary>The issuer and audience the services expect by default (shared/OrderStream.Hosting's AuthOptions).</summary>
    public const string DefaultIssuer = "orderstream-local";
    public const string DefaultAudience = "orderstream";

    public const string PrivateKeyName = "signing-key.pem";
    public const string PublicKeyName = "signing-key.pub.pem";

    private readonly RsaSecurityKey _key;
    private readonly JsonWebTokenHandler _handler = new();

    private LocalIdentity(string directory, RSA rsa)
    {
        Directory = directory;
        _key = new RsaSecurityKey(rsa);
    }

    /// <summary>Where the key pair lives (<c>.local/identity</c>).</summary>
    public string Directory { get; }

    public string PrivateKeyFile => Path.Combine(Directory, PrivateKeyName);

    /// <summary>Given to every service as <c>Auth__SigningKeyFile</c>.</summary>
    public string PublicKeyFile => Path.Combine(Directory, PublicKeyName);

    public string Issuer { get; init; } = DefaultIssuer;

    public string Audience { get; init; } = DefaultAudience;

    /// <summary>
    /// A new key pair in <paramref name="directory"/>, replacing any there: tokens of an earlier start stop
    /// working, as they should. The private key is readable by its owner only (mode 600).
    /// </summary>
    public static LocalIdentity Create(string directory)
    {
        System.IO.Directory.CreateDirectory(directory);
        var rsa = RSA.Create(2048);
        var privateFile = Path.Combine(directory, PrivateKeyName);
        File.Delete(privateFile);
        // Created with mode 600 from the start, so the key is never readable by others, not even for a moment.
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var writer = new StreamWriter(new FileStream(privateFile, create))) writer.Write(rsa.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(Path.Combine(directory, PublicKeyName), rsa.ExportSubjectPublicKeyInfoPem());
        return new LocalIdentity(directory, rsa);
    }

    /// <summary>The key pair <see cref="Create"/> wrote to <paramref name="directory"/>.</summary>
    public static LocalIdentity Load(string directory)
    {
        var privateFile = Path.Combine(directory, PrivateKeyName);
        if (!File.Exists(privateFile)) throw new FileNotFoundException($"No signing key at {privateFile}: start the stack with deploy/local/run.sh", privateFile);
        var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(privateFile));
        return new LocalIdentity(directory, rsa);
    }

    /// <summary>The issuer of a private key file (PEM) wherever it is: the dashboard's <c>Gateway__SigningKeyFile</c>.</summary>
    public static LocalIdentity FromPrivateKeyFile(string file)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(File.ReadAllText(file));
        return new LocalIdentity(Path.GetDirectoryName(Path.GetFullPath(file))!, rsa);
    }

    /// <summary>A signed token for <paramref name="user"/> with <paramref name="roles"/>, valid for <paramref name="lifetime"/>.</summary>
    public string Issue(string user, IEnumerable<string> roles, TimeSpan lifetime) => Issue(new TokenRequest(user, [.. roles], lifetime));

    public string Issue(TokenRequest request)
    {
        var issuedAt = (request.IssuedAt ?? DateTimeOffset.UtcNow).UtcDateTime;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = request.Issuer ?? Issuer,
            Audience = request.Audience ?? Audience,
            IssuedAt = issuedAt,
            NotBefore = issuedAt,
            Expires = issuedAt + request.Lifetime,
            Claims = new Dictionary<string, object> { ["sub"] = request.User, ["roles"] = request.Roles.ToArray() },
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>
    /// A customer token per user, minted once and kept: signing costs about a millisecond of CPU, and a load
    /// run sends thousands of orders from the same thousand users.
    /// </summary>
    public Func<string, string> CustomerTokens(TimeSpan lifetime)
    {
        var tokens = new ConcurrentDictionary<string, string>();
        return user => tokens.GetOrAdd(user, u => Issue(u, ["customer"], lifetime));
    }

    /// <summary>"90s", "30m", "8h", "7d" (or a plain number of seconds); null if it is none of those or not above zero.</summary>
    public static TimeSpan? ParseLifetime(string text)
    {
        text = text.Trim();
        if (text.Length == 0) return null;
        var (number, unit) = char.IsAsciiLetter(text[^1]) ? (text[..^1], text[^1]) : (text, 's');
        if (!long.TryParse(number, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n <= 0 || n > 366L * 86_400) return null;
        TimeSpan? lifetime = unit switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            'd' => TimeSpan.FromDays(n),
            _ => null,
        };
        return lifetime <= TimeSpan.FromDays(366) ? lifetime : null;
    }
}
