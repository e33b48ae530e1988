using System.Collections.Concurrent;
using OrderStream.Dashboard.Hosting;
using OrderStream.Stack;

namespace OrderStream.Dashboard.Gateway;

/// <summary>
/// The bearer tokens the dashboard calls the gateway with, until it signs its users in with the identity
/// provider and calls with theirs (docs/security.md). With <c>Gateway__SigningKeyFile</c> (the private key of
/// a stack on this machine, which run.sh and the tests give it) it mints them: an operator token (admin and
/// seller) for reads, stock and the operator controls, and a customer token for the user an order is placed
/// or cancelled for, since the gateway takes the order's user from the token. Without a key, every call
/// sends <c>Gateway__Token</c> (or none).
/// </summary>
public sealed class DashboardTokens
{
    public const string OperatorUser = "dashboard";
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    // A token is replaced well before it expires, so no call goes out with one about to lapse.
    private static readonly TimeSpan Renew = TimeSpan.FromMinutes(10);
    private static readonly ConcurrentDictionary<string, DashboardTokens> ByKeyFile = new();

    private readonly LocalIdentity? _identity;
    private readonly string? _fixed;
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> _minted = new();

    private DashboardTokens(LocalIdentity? identity, string? fixedToken)
    {
        _identity = identity;
        _fixed = fixedToken;
    }

    /// <summary>The tokens of <paramref name="options"/>: one instance per key file, so its tokens are minted once and shared.</summary>
    public static DashboardTokens For(GatewayOptions options) =>
        string.IsNullOrWhiteSpace(options.SigningKeyFile)
            ? new DashboardTokens(null, string.IsNullOrWhiteSpace(options.Token) ? null : options.Token.Trim())
            : ByKeyFile.GetOrAdd(options.SigningKeyFile, file => new DashboardTokens(LocalIdentity.FromPrivateKeyFile(file), null));

    /// <summary>For reads, stock changes and the operator controls.</summary>
    public string? Operator() => Mint(OperatorUser, ["admin", "seller"]);

    /// <summary>For placing or cancelling an order of <paramref name="user"/>.</summary>
    public string? Customer(string user) => Mint(user, ["customer"]);

    private string? Mint(string user, string[] roles)
    {
        if (_identity is null) return _fixed;
        var key = string.Join(',', roles) + ":" + user;
        var now = DateTimeOffset.UtcNow;
        if (_minted.TryGetValue(key, out var held) && held.Expires - now > Renew) return held.Token;
        var token = _identity.Issue(user, roles, Lifetime);
        _minted[key] = (token, now + Lifetime);
        return token;
    }
}
