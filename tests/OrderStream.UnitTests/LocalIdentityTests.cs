using System.Security.Cryptography;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OrderStream.Stack;

namespace OrderStream.UnitTests;

public class LocalIdentityTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("30m", 1_800)]
    [InlineData("8h", 28_800)]
    [InlineData("7d", 604_800)]
    [InlineData("45", 45)]
    public void A_lifetime_is_seconds_minutes_hours_or_days(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), LocalIdentity.ParseLifetime(text));

    [Theory]
    [InlineData("")]
    [InlineData("0m")]
    [InlineData("-5m")]
    [InlineData("1w")]
    [InlineData("forever")]
    [InlineData("400d")]
    public void Anything_else_is_no_lifetime(string text) => Assert.Null(LocalIdentity.ParseLifetime(text));

    [Fact]
    public async Task A_token_is_RS256_with_sub_roles_issuer_audience_and_expiry_and_the_private_key_is_the_owners_only()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"orderstream-identity-test-{Guid.NewGuid():N}");
        try
        {
            var identity = LocalIdentity.Create(directory);
            var token = new JsonWebToken(identity.Issue("alice", ["customer", "seller"], TimeSpan.FromMinutes(30)));
            Assert.Equal(("RS256", "alice", "orderstream-local"), (token.Alg, token.Subject, token.Issuer));
            Assert.Equal(["orderstream"], token.Audiences);
            Assert.Equal(["customer", "seller"], token.Claims.Where(c => c.Type == "roles").Select(c => c.Value));
            Assert.InRange(token.ValidTo - DateTime.UtcNow, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(30));
            if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(identity.PrivateKeyFile));
            Assert.DoesNotContain("PRIVATE", File.ReadAllText(identity.PublicKeyFile));
            // A reload (each ordersctl call) signs with the same key: its tokens validate against the public key the services have.
            var reloaded = LocalIdentity.Load(directory).Issue("bob", ["admin"], TimeSpan.FromMinutes(5));
            using var rsa = RSA.Create();
            rsa.ImportFromPem(File.ReadAllText(identity.PublicKeyFile));
            var result = await new JsonWebTokenHandler().ValidateTokenAsync(reloaded, new TokenValidationParameters
            {
                ValidIssuer = "orderstream-local", ValidAudience = "orderstream", IssuerSigningKey = new RsaSecurityKey(rsa),
            });
            Assert.True(result.IsValid, result.Exception?.Message);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
