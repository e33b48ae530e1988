using System.ComponentModel.DataAnnotations;
using OrderStream.Hosting.Admin;
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
    [InlineData(true, null, false)]
    [InlineData(true, "short", false)]
    [InlineData(true, "a-key-of-sixteen-chars", true)]
    [InlineData(false, null, true)]
    public void Admin_on_requires_a_key_of_at_least_16_characters(bool enabled, string? key, bool valid)
    {
        var options = new AdminOptions { Enabled = enabled, ApiKey = key };
        Assert.Equal(valid, Validator.TryValidateObject(options, new ValidationContext(options), null, validateAllProperties: true));
    }
}
