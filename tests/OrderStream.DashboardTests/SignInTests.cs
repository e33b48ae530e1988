using System.Reflection;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OrderStream.Dashboard.Components;
using OrderStream.Dashboard.Components.Pages;
using OrderStream.Dashboard.Components.Shared;
using OrderStream.Dashboard.Hosting;
using OrderStream.Hosting.Identity;
using OrderStream.Stack;

namespace OrderStream.DashboardTests;

/// <summary>
/// Sign-in with a pasted token (the local stack): validated by the services' own rules with the stack's
/// public key, so exactly the tokens the gateway accepts get in; the cookie then holds who, roles and token.
/// </summary>
public sealed class TokenSignInTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"dashboard-signin-{Guid.NewGuid():N}");
    private readonly LocalIdentity _identity;
    private readonly TokenSignIn _signIn;

    public TokenSignInTests()
    {
        _identity = LocalIdentity.Create(_dir);
        _signIn = new TokenSignIn(Options.Create(new AuthOptions { SigningKeyFile = _identity.PublicKeyFile }));
    }

    [Fact]
    public async Task A_token_of_the_stack_signs_the_person_in_with_their_id_roles_and_token_until_it_expires()
    {
        var token = _identity.Issue("alice", [Roles.Customer, Roles.Seller], TimeSpan.FromMinutes(30));
        var (context, signedIn) = Context();

        Assert.Null(await _signIn.SignInAsync(context, "Bearer " + token + "\n")); // as pasted from a curl line

        var (principal, properties) = Assert.Single(signedIn);
        Assert.Equal("alice", principal.UserId());
        Assert.Equal("alice", principal.Identity!.Name);
        Assert.True(principal.IsInRole(Roles.Customer) && principal.IsInRole(Roles.Seller) && !principal.IsInRole(Roles.Admin));
        Assert.Equal(token, principal.AccessToken());
        // The cookie ends with the token, and is never renewed past it.
        Assert.Equal(new JsonWebToken(token).ValidTo, properties!.ExpiresUtc!.Value.UtcDateTime);
        Assert.False(properties.AllowRefresh);
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "expired", "expired" },
        { "other-key", "signature" },
        { "other-audience", "audience" },
        { "other-issuer", "issuer" },
        { "alg-none", "not valid" },
        { "garbage", "not valid" },
        { "", "Paste a token" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_token_the_gateway_would_refuse_signs_nobody_in_and_says_why(string kind, string reason)
    {
        var token = kind switch
        {
            "expired" => _identity.Issue(new TokenRequest("alice", [Roles.Admin], TimeSpan.FromMinutes(5)) { IssuedAt = DateTimeOffset.UtcNow.AddHours(-1) }),
            "other-key" => LocalIdentity.Create(_dir + "-other").Issue("alice", [Roles.Admin], TimeSpan.FromMinutes(5)),
            "other-audience" => _identity.Issue(new TokenRequest("alice", [Roles.Admin], TimeSpan.FromMinutes(5)) { Audience = "someone-else" }),
            "other-issuer" => _identity.Issue(new TokenRequest("alice", [Roles.Admin], TimeSpan.FromMinutes(5)) { Issuer = "https://evil.example" }),
            "alg-none" => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
            {
                Issuer = LocalIdentity.DefaultIssuer, Audience = LocalIdentity.DefaultAudience, Expires = DateTime.UtcNow.AddMinutes(5),
                Claims = new Dictionary<string, object> { ["sub"] = "alice", ["roles"] = new[] { Roles.Admin } },
            }),
            "garbage" => "not.a.token",
            _ => "",
        };
        var (context, signedIn) = Context();

        var refused = await _signIn.SignInAsync(context, token);

        Assert.NotNull(refused);
        Assert.Contains(reason, refused, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(signedIn);
    }

    private static (HttpContext Context, List<(ClaimsPrincipal, AuthenticationProperties?)> SignedIn) Context()
    {
        var signedIn = new List<(ClaimsPrincipal, AuthenticationProperties?)>();
        var services = new ServiceCollection().AddSingleton<IAuthenticationService>(new RecordingAuthentication(signedIn)).BuildServiceProvider();
        return (new DefaultHttpContext { RequestServices = services }, signedIn);
    }

    public void Dispose()
    {
        foreach (var dir in new[] { _dir, _dir + "-other" })
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    private sealed class RecordingAuthentication(List<(ClaimsPrincipal, AuthenticationProperties?)> signedIn) : IAuthenticationService
    {
        public Task SignInAsync(HttpContext context, string? scheme, ClaimsPrincipal principal, AuthenticationProperties? properties)
        {
            signedIn.Add((principal, properties));
            return Task.CompletedTask;
        }

        public Task<AuthenticateResult> AuthenticateAsync(HttpContext context, string? scheme) => Task.FromResult(AuthenticateResult.NoResult());
        public Task ChallengeAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => Task.CompletedTask;
        public Task ForbidAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => Task.CompletedTask;
        public Task SignOutAsync(HttpContext context, string? scheme, AuthenticationProperties? properties) => Task.CompletedTask;
    }
}

/// <summary>Which roles open which page: read from each page's own attribute, the rule the request and the router both apply.</summary>
public sealed class PageAccessTests : DashboardTestContext
{
    public static TheoryData<Type, string[]> PagesAndRoles => new()
    {
        { typeof(Orders), [Roles.Customer, Roles.Seller, Roles.Admin] },
        { typeof(OrderDetails), [Roles.Customer, Roles.Seller, Roles.Admin] },
        { typeof(Inventory), [Roles.Seller, Roles.Admin] },
        { typeof(Operations), [Roles.Admin] },
        { typeof(DeadLetters), [Roles.Admin] },
        { typeof(LoadTest), [Roles.Admin] },
    };

    [Theory]
    [MemberData(nameof(PagesAndRoles))]
    public void Each_page_opens_for_its_roles_only(Type page, string[] roles) =>
        Assert.Equal(roles, PageAccess.RolesOf(page));

    [Fact]
    public void Every_page_decides_who_may_open_it()
    {
        // A page without either attribute would fall back to "any signed-in person": each one must say.
        var pages = typeof(App).Assembly.GetTypes().Where(t => t.GetCustomAttributes<RouteAttribute>().Any()).ToList();
        Assert.NotEmpty(pages);
        var undecided = pages.Where(p => p.GetCustomAttribute<AuthorizeAttribute>() is null && p.GetCustomAttribute<AllowAnonymousAttribute>() is null);
        Assert.Empty(undecided);
        // Only the sign-in and error pages are open to anyone.
        Assert.Equal(["Error", "Login"], pages.Where(p => p.GetCustomAttribute<AllowAnonymousAttribute>() is not null).Select(p => p.Name).Order());
    }

    [Fact]
    public void A_person_without_the_role_is_told_which_role_the_page_needs_and_which_they_have()
    {
        var user = new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(DashboardUser.NameClaim, "alice"), new Claim(DashboardUser.RolesClaim, Roles.Customer)], "token", DashboardUser.NameClaim, DashboardUser.RolesClaim));

        var cut = Ctx.Render<NeedsRole>(p => p.Add(c => c.Roles, PageAccess.RolesOf(typeof(Operations))).Add(c => c.User, user));

        Assert.Equal("admin", cut.Find("[data-testid=forbidden-needs]").TextContent);
        Assert.Equal("customer", cut.Find("[data-testid=forbidden-has]").TextContent);
        Assert.Contains("alice", cut.Markup);
    }
}
