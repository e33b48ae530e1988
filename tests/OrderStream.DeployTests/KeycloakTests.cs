using System.Text.Json;
using OrderStream.TestSupport;

namespace OrderStream.DeployTests;

/// <summary>
/// Keycloak in docker-compose and the realm it imports, read as data. Keycloak cannot run here (no Docker):
/// these checks stand in for signing in, so they test what the services rely on: the roles in a `roles`
/// claim, the audience, the demo users, the clients, one issuer, and every service pointed at the realm.
/// </summary>
public class KeycloakTests
{
    public const string Realm = "orderstream";
    public const string Authority = "http://keycloak:8080/realms/orderstream";
    public const string PublicIssuer = "http://localhost:8180/realms/orderstream";
    private static readonly string[] RoleNames = ["customer", "seller", "admin"];

    private static readonly string RealmPath = Path.Combine(Repo.Root, "deploy", "keycloak", "orderstream-realm.json");
    private static readonly JsonElement RealmJson = JsonDocument.Parse(File.ReadAllText(RealmPath)).RootElement;

    [Fact]
    public void The_realm_file_is_the_orderstream_realm_with_exactly_the_three_roles()
    {
        Assert.Equal(Realm, RealmJson.GetProperty("realm").GetString());
        Assert.True(RealmJson.GetProperty("enabled").GetBoolean());
        var roles = RealmJson.GetProperty("roles").GetProperty("realm").EnumerateArray().Select(r => r.GetProperty("name").GetString()).ToList();
        Assert.Equal<string?>(RoleNames.Order(), roles.Order());
        Assert.False(RealmJson.GetProperty("registrationAllowed").GetBoolean()); // nobody gives themselves a role
    }

    [Theory]
    [InlineData("alice", "customer")]
    [InlineData("sam", "seller")]
    [InlineData("ada", "admin")]
    public void Each_demo_user_has_exactly_their_role_and_a_password_that_says_demo(string username, string role)
    {
        var user = Assert.Single(Users(), u => u.GetProperty("username").GetString() == username);
        Assert.True(user.GetProperty("enabled").GetBoolean());
        Assert.Equal<string?>(new[] { role }, Strings(user.GetProperty("realmRoles")));
        var credential = Assert.Single(user.GetProperty("credentials").EnumerateArray());
        Assert.Equal("password", credential.GetProperty("type").GetString());
        Assert.False(credential.GetProperty("temporary").GetBoolean()); // a demo signs in without a password change
        Assert.Contains("demo", credential.GetProperty("value").GetString());
        // A fixed id, so the user's `sub` (the owner of their orders) survives a fresh import.
        Assert.True(Guid.TryParse(user.GetProperty("id").GetString(), out _));
        // Keycloak asks at sign-in for a profile field that is missing: the demo must go straight through.
        foreach (var field in new[] { "email", "firstName", "lastName" }) Assert.False(string.IsNullOrEmpty(user.GetProperty(field).GetString()));
    }

    [Fact]
    public void The_dashboard_client_is_public_with_the_code_flow_pkce_and_password_grants_for_demos()
    {
        var client = Client("orderstream-dashboard");
        Assert.True(client.GetProperty("publicClient").GetBoolean());
        Assert.True(client.GetProperty("standardFlowEnabled").GetBoolean());
        Assert.True(client.GetProperty("directAccessGrantsEnabled").GetBoolean());
        Assert.False(client.GetProperty("implicitFlowEnabled").GetBoolean());
        Assert.Equal("S256", client.GetProperty("attributes").GetProperty("pkce.code.challenge.method").GetString());
        // Exactly the dashboard's callback as compose publishes it (5090), no wildcard an attacker could aim a code at.
        var dashboardPort = Compose.Service("dashboard").Seq("ports").Cast<string>().Single().Split(':')[0];
        Assert.Equal<string?>(new[] { $"http://localhost:{dashboardPort}/signin-oidc" }, Strings(client.GetProperty("redirectUris")));
        Assert.Equal($"http://localhost:{dashboardPort}/signout-callback-oidc", client.GetProperty("attributes").GetProperty("post.logout.redirect.uris").GetString());
    }

    [Fact]
    public void The_ops_client_is_confidential_with_only_client_credentials_and_its_service_account_is_admin()
    {
        var client = Client("orderstream-ops");
        Assert.False(client.GetProperty("publicClient").GetBoolean());
        Assert.True(client.GetProperty("serviceAccountsEnabled").GetBoolean());
        Assert.False(client.GetProperty("standardFlowEnabled").GetBoolean());
        Assert.False(client.GetProperty("directAccessGrantsEnabled").GetBoolean());
        Assert.StartsWith("dev-only", client.GetProperty("secret").GetString());
        var account = Assert.Single(Users(), u => u.TryGetProperty("serviceAccountClientId", out var c) && c.GetString() == "orderstream-ops");
        Assert.Contains("admin", Strings(account.GetProperty("realmRoles")));
        // The compose seed job signs in with this secret.
        Assert.Equal(client.GetProperty("secret").GetString(), Compose.Environment("seed")["OPS_CLIENT_SECRET"]);
    }

    [Theory]
    [InlineData("orderstream-dashboard")]
    [InlineData("orderstream-ops")]
    public void Every_client_puts_the_realm_roles_in_a_multivalued_roles_claim_and_the_orderstream_audience_in_the_access_token(string clientId)
    {
        var mappers = Client(clientId).GetProperty("protocolMappers").EnumerateArray().ToList();

        var roles = Assert.Single(mappers, m => m.GetProperty("protocolMapper").GetString() == "oidc-usermodel-realm-role-mapper");
        var rolesConfig = roles.GetProperty("config");
        Assert.Equal("roles", rolesConfig.GetProperty("claim.name").GetString());
        Assert.Equal("true", rolesConfig.GetProperty("multivalued").GetString());
        Assert.Equal("true", rolesConfig.GetProperty("access.token.claim").GetString());
        Assert.Equal("String", rolesConfig.GetProperty("jsonType.label").GetString());

        var audience = Assert.Single(mappers, m => m.GetProperty("protocolMapper").GetString() == "oidc-audience-mapper");
        Assert.Equal("orderstream", audience.GetProperty("config").GetProperty("included.custom.audience").GetString());
        Assert.Equal("true", audience.GetProperty("config").GetProperty("access.token.claim").GetString());
        Assert.Equal("orderstream", Compose.Environment("api-gateway")["Auth__Audience"]);
    }

    [Fact]
    public void Compose_runs_a_pinned_keycloak_that_imports_the_realm_with_one_public_issuer_and_a_healthcheck()
    {
        var keycloak = Compose.Service("keycloak");
        var image = keycloak.Str("image")!;
        Assert.Equal("quay.io/keycloak/keycloak", ImageRef.Repository(image));
        Assert.True(ImageRef.IsPinned(image), image);
        Assert.StartsWith("26.", ImageRef.Tag(image));
        Assert.Equal(new[] { "start-dev", "--import-realm" }, keycloak.Seq("command").Cast<string>());
        Assert.Equal(Path.GetDirectoryName(RealmPath), Compose.HostPath("keycloak", "/opt/keycloak/data/import"));

        // The issuer every token carries is the public URL (host port 8180), whoever asked for the token.
        var env = Compose.Environment("keycloak");
        Assert.Contains("8180:8080", keycloak.Seq("ports").Cast<string>().Select(p => p.Split(' ')[0]));
        Assert.Equal("http://localhost:8180", env["KC_HOSTNAME"]);
        Assert.Equal(PublicIssuer, $"{env["KC_HOSTNAME"]}/realms/{Realm}");
        Assert.Equal("true", env["KC_HOSTNAME_BACKCHANNEL_DYNAMIC"]);
        Assert.Equal("true", env["KC_HEALTH_ENABLED"]);
        var test = string.Join(' ', keycloak.Map("healthcheck").Seq("test").Cast<string>());
        Assert.Contains("/dev/tcp/127.0.0.1/9000", test); // the management port serves /health
        Assert.Contains("GET /health/ready ", test);
    }

    [Theory]
    [MemberData(nameof(AppService.Theory), MemberType = typeof(AppService))]
    public void Every_compose_service_validates_tokens_of_the_keycloak_realm_and_starts_after_keycloak_is_healthy(AppService app)
    {
        var env = Compose.Environment(app.Name);
        Assert.Equal(Authority, env["Auth__Authority"]);
        var authority = new Uri(env["Auth__Authority"]!);
        Assert.True(Compose.Services.ContainsKey(authority.Host), $"{app.Name}: the authority's host {authority.Host} is no compose service");
        Assert.Equal("8080", authority.Port.ToString()); // the port inside the network, not the published one
        Assert.Equal(PublicIssuer, env["Auth__Issuer"]);
        Assert.Equal("orderstream", env["Auth__Audience"]);
        Assert.False(env.ContainsKey("Auth__SigningKeyFile"), $"{app.Name}: a key file and an authority are exclusive");
        Assert.DoesNotContain(env.Keys, k => k is "Admin__ApiKey" or "Gateway__AdminKey");
        Assert.Equal("service_healthy", (Compose.Service(app.Name).Map("depends_on").Get("keycloak") as Dictionary<object, object>).Str("condition"));
    }

    [Fact]
    public void The_shared_admin_key_is_gone_from_compose_and_kubernetes()
    {
        var compose = File.ReadAllText(Compose.Path);
        Assert.DoesNotContain("ADMIN_API_KEY", compose);
        Assert.DoesNotContain("Admin__ApiKey", compose);
        Assert.DoesNotContain(Kubernetes.OfKind("Secret"), s => s.Map("metadata").Str("name") == "orderstream-admin");
        foreach (var app in AppService.All)
            Assert.DoesNotContain(Kubernetes.Env(Kubernetes.Named("Deployment", app.Name)), e => e.Str("name") is "Admin__ApiKey" or "Gateway__AdminKey");
    }

    [Theory]
    [MemberData(nameof(AppService.Theory), MemberType = typeof(AppService))]
    public void Every_kubernetes_deployment_reads_the_authority_issuer_and_audience_from_the_config_map(AppService app)
    {
        var env = Kubernetes.Env(Kubernetes.Named("Deployment", app.Name)).ToDictionary(e => e.Str("name")!);
        var data = Kubernetes.Named("ConfigMap", "orderstream-config").Map("data")!;
        foreach (var name in new[] { "Auth__Authority", "Auth__Issuer", "Auth__Audience" })
        {
            Assert.True(env.ContainsKey(name), $"{app.Name} has no {name}");
            var reference = env[name].Map("valueFrom").Map("configMapKeyRef");
            Assert.True(reference is not null, $"{app.Name}: {name} is not read from the ConfigMap (the authority is the cluster's configuration)");
            Assert.Equal(("orderstream-config", name), (reference.Str("name"), reference.Str("key")));
        }
        Assert.StartsWith("https://", data.Str("Auth__Authority"));
        Assert.Equal("orderstream", data.Str("Auth__Audience"));
    }

    private static IEnumerable<JsonElement> Users() => RealmJson.GetProperty("users").EnumerateArray();

    private static JsonElement Client(string clientId) =>
        Assert.Single(RealmJson.GetProperty("clients").EnumerateArray(), c => c.GetProperty("clientId").GetString() == clientId);

    private static List<string?> Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString())];
}
