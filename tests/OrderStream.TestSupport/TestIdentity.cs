using System.Collections.Concurrent;
using System.Net.Http.Headers;
using OrderStream.Stack;

namespace OrderStream.TestSupport;

/// <summary>
/// The identity provider of a test run: a key pair made once per run (as run.sh makes one per start) in a
/// state directory of its own, whose public key every test service validates with, and token helpers for
/// each role. Tokens are kept per user and role for the run (they live an hour; a run takes less).
/// </summary>
public static class TestIdentity
{
    /// <summary>A directory laid out as run.sh's state (<c>identity/</c>), so ordersctl can mint with it too.</summary>
    public static readonly string StateDirectory = Path.Combine(Path.GetTempPath(), $"orderstream-test-identity-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public static readonly LocalIdentity Issuer = LocalIdentity.Create(Path.Combine(StateDirectory, "identity"));

    private static readonly ConcurrentDictionary<string, string> Tokens = new();

    /// <summary>What every test service gets so it accepts this run's tokens.</summary>
    public static IReadOnlyDictionary<string, string> ServiceSettings => new Dictionary<string, string>
    {
        ["Auth__SigningKeyFile"] = Issuer.PublicKeyFile,
        ["Auth__Issuer"] = Issuer.Issuer,
        ["Auth__Audience"] = Issuer.Audience,
    };

    public static string Token(string user, params string[] roles) =>
        Tokens.GetOrAdd(string.Join(',', roles) + ":" + user, _ => Issuer.Issue(user, roles, TimeSpan.FromHours(1)));

    public static string Customer(string user) => Token(user, "customer");

    public static string Seller(string user = "test-seller") => Token(user, "seller");

    public static string Admin(string user = "test-admin") => Token(user, "admin");

    /// <summary>Sends <paramref name="token"/> as the bearer token of every request of <paramref name="client"/>.</summary>
    public static HttpClient WithToken(this HttpClient client, string token)
    {
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
