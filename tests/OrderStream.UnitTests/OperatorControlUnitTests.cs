using System.ComponentModel.DataAnnotations;
using OrderStream.Hosting.Identity;
using OrderStream.OrderMaterializer.Data;
using OrderStream.OrderMaterializer.Http;

namespace OrderStream.UnitTests;

public class OperatorControlUnitTests
{
    [Fact]
    public void A_cursor_round_trips_to_the_microsecond_and_anything_else_is_refused()
    {
        var cursor = new OrderListStore.Cursor(new DateTime(2026, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1_234_560), Guid.CreateVersion7());
        Assert.Equal(cursor, OrderViewEndpoints.DecodeCursor(OrderViewEndpoints.EncodeCursor(cursor)));
        foreach (var bad in new[] { "", "not base64!", "bm9wZQ", Convert.ToBase64String("-5:abc"u8), new string('A', 200) })
            Assert.Null(OrderViewEndpoints.DecodeCursor(bad));
    }

    [Theory]
    [InlineData(null, null, false)]
    [InlineData("http://keycloak:8080/realms/orderstream", null, true)]
    [InlineData(null, "FILE", true)]
    [InlineData("http://keycloak:8080/realms/orderstream", "FILE", false)]
    [InlineData("not a url", null, false)]
    [InlineData(null, "/no/such/key.pem", false)]
    public void Auth_takes_exactly_one_of_an_authority_or_an_existing_signing_key_file(string? authority, string? keyFile, bool valid)
    {
        var file = Path.GetTempFileName();
        try
        {
            var options = new AuthOptions { Authority = authority, SigningKeyFile = keyFile == "FILE" ? file : keyFile };
            Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), null, validateAllProperties: true));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_issuer_is_the_local_one_with_a_key_file_and_the_discovered_one_with_an_authority_unless_set()
    {
        Assert.Equal(AuthOptions.LocalIssuer, new AuthOptions { SigningKeyFile = "k.pem" }.EffectiveIssuer);
        Assert.Null(new AuthOptions { Authority = "http://kc/realms/o" }.EffectiveIssuer);
        Assert.Equal("http://kc/realms/o", new AuthOptions { Authority = "http://kc:8080/realms/o", Issuer = "http://kc/realms/o" }.EffectiveIssuer);
    }
}
