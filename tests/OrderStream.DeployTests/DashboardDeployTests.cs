namespace OrderStream.DeployTests;

/// <summary>
/// The dashboard in docker-compose and Kubernetes (its image is built from the one Dockerfile, covered with the other services):
/// the dashboard's settings (gateway address, sign-in at the identity provider as its public client, a
/// trace link in compose), a health check, and nothing of the books check outside run.sh.
/// </summary>
public class DashboardDeployTests
{
    [Fact]
    public void Compose_runs_it_against_the_gateway_signing_people_in_at_keycloak_on_5090()
    {
        var env = Compose.Environment("dashboard");
        var gatewayPort = Compose.Environment("api-gateway")["ASPNETCORE_HTTP_PORTS"];
        Assert.Equal($"http://api-gateway:{gatewayPort}", env["Gateway__BaseUrl"]);
        // The code flow as the realm's public client: the callback the realm allows is this port's.
        Assert.Equal("orderstream-dashboard", env["Auth__ClientId"]);
        Assert.Equal(Compose.Environment("api-gateway")["Auth__Authority"], env["Auth__Authority"]);
        Assert.Contains("{orderId}", env["Traces__OrderLink"]);
        Assert.StartsWith("http://localhost:16686/", env["Traces__OrderLink"]);
        Assert.Contains("16686:16686", Compose.Service("jaeger").Seq("ports").Cast<string>().Select(p => p.Split(' ')[0]));
        Assert.DoesNotContain(env.Keys, k => k.StartsWith("Checker__", StringComparison.Ordinal));

        var service = Compose.Service("dashboard");
        Assert.Contains("5090:8080", service.Seq("ports").Cast<string>());
        Assert.Equal("8080", env["ASPNETCORE_HTTP_PORTS"]);
        Assert.NotNull(service.Map("depends_on").Map("api-gateway"));
        var test = string.Join(' ', service.Map("healthcheck").Seq("test").Cast<string>());
        Assert.Contains("GET /healthz ", test);
        Assert.Contains("/dev/tcp/127.0.0.1/8080", test);
    }

    [Fact]
    public void Kubernetes_gives_it_the_identity_provider_and_the_gateway_service_and_no_checker_settings()
    {
        var deployment = Kubernetes.Named("Deployment", "dashboard");
        var env = Kubernetes.Env(deployment).ToDictionary(e => e.Str("name")!);
        var clientId = env["Auth__ClientId"].Map("valueFrom").Map("configMapKeyRef")!;
        Assert.Equal("orderstream-dashboard", Kubernetes.Named("ConfigMap", clientId.Str("name")!).Map("data").Str(clientId.Str("key")!));
        Assert.False(env.ContainsKey("Gateway__AdminKey"));

        var baseUrl = env["Gateway__BaseUrl"].Map("valueFrom").Map("configMapKeyRef")!;
        var url = new Uri(Kubernetes.Named("ConfigMap", baseUrl.Str("name")!).Map("data").Str(baseUrl.Str("key")!)!);
        var gateway = Kubernetes.Named("Service", url.Host);
        Assert.Contains(gateway.Map("spec").Seq("ports").Maps(), p => p.Str("port") == url.Port.ToString());
        Assert.Equal("api-gateway", url.Host);

        Assert.DoesNotContain(env.Keys, k => k.StartsWith("Checker__", StringComparison.Ordinal));
        Assert.Equal("dashboard", env["OTEL_SERVICE_NAME"].Str("value"));
        // A Blazor circuit lives in one pod: one replica (more need sticky sessions and shared keys).
        Assert.Equal("1", deployment.Map("spec").Str("replicas"));
    }
}
