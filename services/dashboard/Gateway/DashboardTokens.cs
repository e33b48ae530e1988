using System.Collections.Concurrent;
using OrderStream.Dashboard.Hosting;
using OrderStream.Stack;

namespace OrderStream.Dashboard.Gateway;

/// <summary>
/// Tokens for the load test page's simulated customers, which each place and poll orders as themselves (the
/// gateway takes an order's user from its token). Minted with <c>Gateway__SigningKeyFile</c>, the private key
/// of a stack on this machine that run.sh gives the dashboard; everything else the dashboard does, it does
/// with the signed-in person's own token. Without a key (compose, Kubernetes) there are none, and the page
/// says it cannot run: an identity provider does not mint tokens for made-up users.
/// </summary>
public sealed class DashboardTokens
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromHours(1);
    // A token is replaced well before it expires, so no call goes out with one about to lapse.
    private static readonly TimeSpan Renew = TimeSpan.FromMinutes(10);
    private static readonly ConcurrentDictionary<string, DashboardTokens> ByKeyFile = new();

    private readonly LocalIdentity _identity;
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Expires)> _minted = new();

    private DashboardTokens(LocalIdentity identity) => _identity = identity;

    /// <summary>The tokens of <paramref name="options"/>' key (one instance per key file, so each is minted once), or null without one.</summary>
    public static DashboardTokens? For(GatewayOptions options) =>
        string.IsNullOrWhiteSpace(options.SigningKeyFile)
            ? null
            : ByKeyFile.GetOrAdd(options.SigningKeyFile, file => new DashboardTokens(LocalIdentity.Load(Path.GetDirectoryName(Path.GetFullPath(file))!)));

    /// <summary>A customer token of <paramref name="user"/>, for placing and polling their orders.</summary>
    public string Customer(string user)
    {
        var now = DateTimeOffset.UtcNow;
        if (_minted.TryGetValue(user, out var held) && held.Expires - now > Renew) return held.Token;
        var token = _identity.Issue(user, ["customer"], Lifetime);
        _minted[user] = (token, now + Lifetime);
        return token;
    }
}
