namespace OrderStream.DeployTests;

/// <summary>
/// The dashboard in docker-compose and Kubernetes (its image is built from the one Dockerfile, covered with the other services):
/// the dashboard's settings (gateway address, the operator key from where the services get
/// theirs, a trace link in compose), a health check, and nothing of the books check outside run.sh.
/// </summary>
public class DashboardDeployTests
{
    [Fact]
    public void Compose_runs_it_against_the_gateway_with_the_services_admin_key_on_5090()
    {
        var env = Compose.Environment("dashboard");
        var gatewayPort = Compose.Environment("api-gateway")["ASPNETCORE_HTTP_PORTS"];
        Assert.Equal($"http://api-gateway:{gatewayPort}", env["Gateway__BaseUrl"]);
        Assert.Equal(Compose.Environment("api-gateway")["Admin__ApiKey"], env["Gateway__AdminKey"]);
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
    public void Kubernetes_gives_it_the_admin_secret_and_the_gateway_service_and_no_checker_settings()
    {
        var deployment = Kubernetes.Named("Deployment", "dashboard");
        var env = Kubernetes.Env(deployment).ToDictionary(e => e.Str("name")!);
        var key = env["Gateway__AdminKey"].Map("valueFrom").Map("secretKeyRef")!;
        var gatewayKey = Kubernetes.Env(Kubernetes.Named("Deployment", "api-gateway")).Single(e => e.Str("name") == "Admin__ApiKey").Map("valueFrom").Map("secretKeyRef")!;
        Assert.Equal((gatewayKey.Str("name"), gatewayKey.Str("key")), (key.Str("name"), key.Str("key")));

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
