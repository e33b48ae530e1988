using System.Net;
using Microsoft.Extensions.DependencyInjection;
using OrderStream.Dashboard.Gateway;

namespace OrderStream.DashboardTests;

/// <summary>The dashboard calls the gateway as the signed-in person: their token on every call, no key of its own.</summary>
public sealed class GatewayClientTests : DashboardTestContext
{
    [Fact]
    public async Task Every_call_carries_the_signed_in_persons_own_token()
    {
        SignIn("ada", "token-of-ada", "admin");
        Gateway.On(HttpMethod.Get, "/orders", HttpStatusCode.OK, """{"items":[],"nextCursor":null}""")
               .On(HttpMethod.Get, "/inventory", HttpStatusCode.OK, "[]")
               .On(HttpMethod.Post, "/admin/payment/crash", HttpStatusCode.Accepted, """{"service":"payment","processId":1}""");
        var client = Ctx.Services.GetRequiredService<GatewayClient>();

        await client.ListOrdersAsync(null, "alice", 10);
        await client.GetInventoryAsync();
        await client.CrashAsync("payment");

        Assert.Equal(3, Gateway.Authorizations.Count);
        Assert.All(Gateway.Authorizations, a => Assert.Equal("Bearer token-of-ada", a));
    }

    [Fact]
    public async Task A_refused_sign_in_says_to_sign_in_again()
    {
        Gateway.On(HttpMethod.Get, "/inventory", HttpStatusCode.Unauthorized, """{"title":"The token expired","status":401}""");
        var client = Ctx.Services.GetRequiredService<GatewayClient>();

        var error = await Assert.ThrowsAsync<GatewayException>(() => client.GetInventoryAsync());

        Assert.Contains("sign in again", error.Message);
        Assert.Contains("401 The token expired", error.Message);
    }
}
