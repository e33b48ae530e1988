using OrderStream.Contracts;

namespace OrderStream.DeployTests;

/// <summary>
/// deploy/k8s, read as data (`kubectl kustomize deploy/k8s/base` renders it; no cluster runs here).
/// The Deployments must run the same images with the same settings as docker-compose.yml.
/// </summary>
public class KubernetesTests
{
    [Fact]
    public void Manifests_parse_and_the_kustomization_lists_every_manifest()
    {
        Assert.NotEmpty(Kubernetes.Documents);
        foreach (var (file, doc) in Kubernetes.Documents)
        {
            Assert.False(string.IsNullOrEmpty(doc.Str("apiVersion")), $"{file}: a document without apiVersion");
            Assert.False(string.IsNullOrEmpty(doc.Str("kind")), $"{file}: a document without kind");
        }
        foreach (var kustomization in Kubernetes.Documents.Where(d => d.Doc.Str("kind") == "Kustomization"))
        {
            var dir = Path.GetDirectoryName(kustomization.File)!;
            var listed = kustomization.Doc.Seq("resources").Cast<string>().Select(r => Path.GetFullPath(Path.Combine(dir, r))).ToList();
            foreach (var resource in listed)
                Assert.True(File.Exists(resource) || Directory.Exists(resource), $"{kustomization.File} lists {resource}, which does not exist");
            foreach (var manifest in Directory.GetFiles(dir, "*.yaml").Where(f => Path.GetFileName(f) != "kustomization.yaml"))
                Assert.True(listed.Contains(manifest), $"{manifest} is not listed in {kustomization.File}: it would never be applied");
        }
    }

    [Theory]
    [MemberData(nameof(AppService.BackendTheory), MemberType = typeof(AppService))]
    public void Deployment_uses_the_compose_env_names_and_image_repository(AppService app)
    {
        var deployment = Kubernetes.Named("Deployment", app.Name);
        var container = Kubernetes.Container(deployment);

        // All of compose's settings but those that wire inventory to compose's mock vendors: in Kubernetes the vendors
        // are real systems, and their list is each installation's configuration (deploy/k8s/README.md).
        Assert.Equal(
            Compose.Environment(app.Name).Keys.Where(k => !ComposeTests.IsMockVendorSetting(k)).Order(StringComparer.Ordinal),
            Kubernetes.Env(deployment).Select(e => e.Str("name")!).Order(StringComparer.Ordinal));
        Assert.Equal(ImageRef.Repository(Compose.Service(app.Name).Str("image")!), ImageRef.Repository(container.Str("image")!));

        var literal = Kubernetes.Env(deployment).Where(e => e.Str("value") is not null).ToDictionary(e => e.Str("name")!, e => e.Str("value"));
        Assert.Equal(app.Name, literal["OTEL_SERVICE_NAME"]);
        Assert.Equal("8080", literal["ASPNETCORE_HTTP_PORTS"]);
        // The group id is also the consumer's name in the inbox: a different one would apply every event again.
        Assert.Equal(app.DefaultGroupId(), literal.GetValueOrDefault("Kafka__GroupId"));
    }

    [Theory]
    [MemberData(nameof(AppService.Theory), MemberType = typeof(AppService))]
    public void Deployment_env_references_resolve_to_existing_keys(AppService app)
    {
        foreach (var env in Kubernetes.Env(Kubernetes.Named("Deployment", app.Name)))
        {
            var from = env.Map("valueFrom");
            if (from is null) { Assert.NotNull(env.Str("value")); continue; }
            if (from.Map("configMapKeyRef") is { } cm)
                Assert.True(Kubernetes.Named("ConfigMap", cm.Str("name")!).Map("data")?.ContainsKey(cm.Str("key")!) == true,
                    $"{app.Name}: {env.Str("name")} reads ConfigMap {cm.Str("name")} key {cm.Str("key")}, which is not there");
            else if (from.Map("secretKeyRef") is { } secret)
            {
                var s = Kubernetes.Named("Secret", secret.Str("name")!);
                Assert.True((s.Map("stringData") ?? s.Map("data"))?.ContainsKey(secret.Str("key")!) == true,
                    $"{app.Name}: {env.Str("name")} reads Secret {secret.Str("name")} key {secret.Str("key")}, which is not there");
            }
            else Assert.Fail($"{app.Name}: {env.Str("name")} has a valueFrom this test does not know");
        }
    }

    [Theory]
    [MemberData(nameof(AppService.BackendTheory), MemberType = typeof(AppService))]
    public void Database_secret_is_a_dev_only_placeholder_for_the_service_own_database(AppService app)
    {
        var reference = Kubernetes.Env(Kubernetes.Named("Deployment", app.Name)).Single(e => e.Str("name") == "ConnectionStrings__Db")
            .Map("valueFrom").Map("secretKeyRef")!;
        var secret = Kubernetes.Named("Secret", reference.Str("name")!);
        var db = ConnectionString.Parse(secret.Map("stringData").Str(reference.Str("key")!)!);
        Assert.Equal(app.Database, db["Database"]);
        Assert.Equal(app.Database, db["Username"]);
        Assert.StartsWith("dev-only", db["Password"]);
    }

    [Theory]
    [MemberData(nameof(AppService.Theory), MemberType = typeof(AppService))]
    public void Deployment_has_probes_resources_and_runs_as_non_root(AppService app)
    {
        var deployment = Kubernetes.Named("Deployment", app.Name);
        var pod = deployment.Map("spec").Map("template").Map("spec");
        var container = Kubernetes.Container(deployment);
        var http = Assert.Single(container.Seq("ports").Maps());
        Assert.Equal("8080", http.Str("containerPort"));

        foreach (var (probe, path) in new[] { ("livenessProbe", "/healthz"), ("readinessProbe", "/readyz") })
        {
            var get = container.Map(probe).Map("httpGet");
            Assert.True(get is not null, $"{app.Name} has no {probe}");
            Assert.Equal(path, get.Str("path"));
            Assert.Contains(get.Str("port"), new[] { http.Str("name"), http.Str("containerPort") });
        }

        var resources = container.Map("resources");
        foreach (var bound in new[] { "requests", "limits" })
            foreach (var resource in new[] { "cpu", "memory" })
                Assert.False(string.IsNullOrEmpty(resources.Map(bound).Str(resource)), $"{app.Name}: no {bound}.{resource}");

        var nonRoot = container.Map("securityContext").Str("runAsNonRoot") ?? pod.Map("securityContext").Str("runAsNonRoot");
        Assert.Equal("true", nonRoot);
        Assert.Equal("false", container.Map("securityContext").Str("allowPrivilegeEscalation"));
    }

    [Theory]
    [MemberData(nameof(AppService.BackendTheory), MemberType = typeof(AppService))]
    public void Replicas_are_at_least_two_and_consumers_no_more_than_the_partitions(AppService app)
    {
        var replicas = int.Parse(Kubernetes.Named("Deployment", app.Name).Map("spec").Str("replicas")!);
        Assert.InRange(replicas, 2, int.MaxValue);
        // Kafka gives each partition of a group's topics to one consumer: instances beyond the partition count idle.
        if (app.DefaultGroupId() is not null) Assert.InRange(replicas, 2, KafkaInit.Partitions);
    }

    [Theory]
    [MemberData(nameof(AppService.Theory), MemberType = typeof(AppService))]
    public void Service_selects_the_deployment_pods_on_port_8080(AppService app)
    {
        var deployment = Kubernetes.Named("Deployment", app.Name);
        var podLabels = deployment.Map("spec").Map("template").Map("metadata").Map("labels")!;
        var service = Kubernetes.Named("Service", app.Name);
        var selector = service.Map("spec").Map("selector")!;
        Assert.NotEmpty(selector);
        foreach (var (key, value) in selector) Assert.Equal(value, podLabels.Get((string)key));
        Assert.Equal(selector.OrderBy(kv => kv.Key), deployment.Map("spec").Map("selector").Map("matchLabels")!.OrderBy(kv => kv.Key));
        Assert.Contains(service.Map("spec").Seq("ports").Maps(), p => p.Str("port") == "8080");
    }

    [Fact]
    public void Gateway_settings_name_the_kubernetes_services()
    {
        var data = Kubernetes.Named("ConfigMap", "orderstream-config").Map("data")!;
        foreach (var key in new[] { "Services__Inventory", "Services__Materializer" })
        {
            var url = new Uri(data.Str(key)!);
            var service = Kubernetes.Named("Service", url.Host);
            Assert.Contains(service.Map("spec").Seq("ports").Maps(), p => p.Str("port") == url.Port.ToString());
        }
    }

    [Fact]
    public void Readme_sends_the_reader_to_the_generated_list_of_topics_the_kafka_cluster_must_provide()
    {
        var readme = File.ReadAllText(Path.Combine(Kubernetes.Root, "README.md"));
        Assert.Contains("[`deploy/topics.txt`](../topics.txt)", readme);
        Assert.True(File.Exists(Path.Combine(Kubernetes.Root, "..", "topics.txt")));
        Assert.Contains("grep -v '^#' deploy/topics.txt | while read -r name partitions; do", readme);
    }
}
