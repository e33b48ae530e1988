using System.Text.Json;
using System.Text.RegularExpressions;
using OrderStream.Contracts;
using OrderStream.Stack;
using OrderStream.TestSupport;

namespace OrderStream.DeployTests;

/// <summary>docker-compose.yml, read as data: no Docker engine runs here, so these checks are what stands in for `up`.</summary>
public class ComposeTests
{
    /// <summary>Jobs that run once and exit: a healthcheck would never turn healthy, dependants wait for their completion instead.</summary>
    private static readonly string[] OneShotJobs = ["kafka-init", "seed", "k6"];

    [Fact]
    public void Every_long_running_service_has_a_healthcheck()
    {
        foreach (var job in OneShotJobs)
            Assert.True(Compose.Services.ContainsKey(job), $"one-shot job '{job}' is listed here but not in docker-compose.yml");

        var missing = Compose.Services
            .Where(s => !OneShotJobs.Contains(s.Key))
            .Where(s => s.Value.Map("healthcheck")?.Get("test") is null || s.Value.Map("healthcheck").Str("disable") == "true")
            .Select(s => s.Key)
            .ToList();
        Assert.True(missing.Count == 0, "services without a healthcheck: " + string.Join(", ", missing));
    }

    [Fact]
    public void Services_that_others_wait_for_healthy_have_a_healthcheck()
    {
        foreach (var (name, service) in Compose.Services)
            foreach (var (dependency, condition) in service.Map("depends_on") ?? [])
                if ((condition as Dictionary<object, object>).Str("condition") == "service_healthy")
                    Assert.True(Compose.Service((string)dependency).Map("healthcheck") is not null,
                        $"{name} waits for {dependency} to be healthy, but {dependency} has no healthcheck");
    }

    [Theory]
    [MemberData(nameof(AppService.BackendTheory), MemberType = typeof(AppService))]
    public void App_service_points_at_its_own_database_the_broker_and_sends_only_traces_to_jaeger(AppService app)
    {
        var env = Compose.Environment(app.Name);

        var db = ConnectionString.Parse(env["ConnectionStrings__Db"]!);
        Assert.Equal("postgres", db["Host"]);
        Assert.Equal(app.Database, db["Database"]);
        Assert.Equal(app.Database, db["Username"]);
        // The password is the one deploy/compose/postgres-init.sh gives the role (the same variable and default).
        var postgres = Compose.Environment("postgres");
        Assert.Equal(postgres[app.Database!.ToUpperInvariant() + "_DB_PASSWORD"], db["Password"]);

        Assert.Equal(string.Join(',', KafkaBrokers.Select(b => $"{b}:9092")), env["Kafka__BootstrapServers"]);
        // Traces only: the shared OTEL_EXPORTER_OTLP_ENDPOINT would send the metrics to Jaeger too, which keeps
        // only traces; Prometheus scrapes the metrics instead.
        Assert.Equal("http://jaeger:4317", env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
        Assert.False(env.ContainsKey("OTEL_EXPORTER_OTLP_ENDPOINT"));
        Assert.False(env.ContainsKey("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"));
        Assert.Equal(app.Name, env["OTEL_SERVICE_NAME"]);
        Assert.Equal("8080", env["ASPNETCORE_HTTP_PORTS"]);
        Assert.Equal(app.DefaultGroupId(), env.GetValueOrDefault("Kafka__GroupId"));
    }

    /// <summary>A setting of inventory's that wires it to the mock vendors (<c>Vendors__List__*</c>), which only compose runs.</summary>
    public static bool IsMockVendorSetting(string name) => name.StartsWith("Vendors__List__", StringComparison.Ordinal);

    [Fact]
    public void Compose_runs_each_mock_vendor_and_wires_inventory_to_them_as_the_local_plan_does()
    {
        // The same vendors, items and mapping as run.sh's stack (OrderStream.Stack's DemoVendors), at their compose names.
        var expected = DemoVendors.InventorySettings(Catalogue.Mocks.Select(m => (m, $"http://{m.Name}:8080")));
        var inventory = Compose.Environment(Catalogue.Inventory.Name);
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal),
            inventory.Where(e => IsMockVendorSetting(e.Key)).Select(e => KeyValuePair.Create(e.Key, e.Value!)).OrderBy(e => e.Key, StringComparer.Ordinal));
        foreach (var mock in Catalogue.Mocks)
        {
            var env = Compose.Environment(mock.Name);
            foreach (var (name, value) in DemoVendors.MockSettings(mock)) Assert.Equal(value, env.GetValueOrDefault(name));
            Assert.Equal("8080", env["ASPNETCORE_HTTP_PORTS"]);
            // Published on loopback only, on the local stack's port: its chaos switches are an operator's tool.
            Assert.Equal($"127.0.0.1:{mock.Port}:8080", Assert.Single(Compose.Service(mock.Name).Seq("ports")) as string);
        }
        // The seed lists every vendor-fed SKU in the catalogue (their stock comes from the sync).
        var seed = string.Join('\n', Compose.Service("seed").Seq("command").Cast<string>());
        Assert.All(new[] { "VND-$$v-00$$n", "for v in A B", "for n in 1 2 3" }, part => Assert.Contains(part, seed));
        Assert.Equal(Catalogue.Mocks.SelectMany(DemoVendors.Of).Select(i => i.Sku).Order(StringComparer.Ordinal),
            from v in new[] { "A", "B" } from n in new[] { 1, 2, 3 } select $"VND-{v}-00{n}");
    }

    [Fact]
    public void Gateway_reaches_inventory_and_materializer_by_their_compose_names()
    {
        var env = Compose.Environment("api-gateway");
        Assert.Equal("http://inventory:8080", env["Services__Inventory"]);
        Assert.Equal("http://order-materializer:8080", env["Services__Materializer"]);
        Assert.Equal("redis:6379", env["Redis__Configuration"]);
        Assert.Equal("redis:6379", Compose.Environment("order-materializer")["Redis__Configuration"]);
    }

    [Fact]
    public void Kafka_init_creates_exactly_the_topics_and_dead_letter_topics_the_code_uses()
    {
        Assert.Equal(
            Topics.AllWithDeadLetters().Order(StringComparer.Ordinal),
            KafkaInit.Topics.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Kafka_refuses_to_auto_create_topics()
    {
        // A typo'd or missing topic must fail loudly, not appear with the broker's default partitions.
        foreach (var broker in KafkaBrokers)
            Assert.Equal("false", Compose.Environment(broker)["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]);
    }

    /// <summary>The KRaft nodes of the compose Kafka cluster (each a broker and a controller).</summary>
    private static readonly string[] KafkaBrokers = ["kafka", "kafka-2", "kafka-3"];

    [Fact]
    public void Kafka_is_three_nodes_whose_defaults_keep_acknowledged_events_when_a_broker_is_lost()
    {
        var voters = string.Join(',', KafkaBrokers.Select((b, i) => $"{i + 1}@{b}:9093"));
        foreach (var (broker, i) in KafkaBrokers.Select((b, i) => (b, i)))
        {
            var env = Compose.Environment(broker);
            Assert.Equal((i + 1).ToString(), env["KAFKA_NODE_ID"]);
            Assert.Equal(voters, env["KAFKA_CONTROLLER_QUORUM_VOTERS"]);
            Assert.Equal("3", env["KAFKA_DEFAULT_REPLICATION_FACTOR"]);
            Assert.Equal("2", env["KAFKA_MIN_INSYNC_REPLICAS"]);
            Assert.Equal("false", env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"]);
            Assert.Equal("3", env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]);
            Assert.Equal("3", env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"]);
            Assert.Equal("2", env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"]);
            Assert.Equal($"PLAINTEXT://{broker}:9092,HOST://localhost:{29092 + i}", env["KAFKA_ADVERTISED_LISTENERS"]);
        }
        Assert.Equal(KafkaBrokers.Length, KafkaBrokers.Select(b => Compose.Service(b).Seq("volumes").Single()).Distinct().Count());
    }

    [Fact]
    public void Kafka_init_creates_every_topic_replicated_three_times_with_two_in_sync_and_no_unclean_election()
    {
        Assert.Matches(@"--replication-factor\s+3\b", KafkaInit.Script);
        Assert.Contains("--config min.insync.replicas=2", KafkaInit.Script);
        Assert.Contains("--config unclean.leader.election.enable=false", KafkaInit.Script);
        var waitsFor = Compose.Service("kafka-init").Map("depends_on")!.Keys.Cast<string>();
        Assert.Subset(waitsFor.ToHashSet(), KafkaBrokers.ToHashSet());
    }

    [Fact]
    public void Consumers_publish_no_fixed_host_port_so_they_can_be_scaled()
    {
        // `docker compose up --scale inventory=3` starts three containers: a fixed host port would collide.
        foreach (var app in AppService.All.Where(a => a.DefaultGroupId() is not null))
            foreach (var port in Compose.Service(app.Name).Seq("ports"))
            {
                var spec = port as string ?? throw new InvalidOperationException($"{app.Name}: use the short port syntax");
                var parts = spec.Split('/')[0].Split(':');
                var hostPort = parts.Length switch { 1 => "", 2 => parts[0], _ => parts[^2] };
                Assert.True(hostPort == "", $"{app.Name} publishes '{spec}', a fixed host port");
            }
    }
}

/// <summary>Prometheus and Grafana in docker-compose, their configuration files read as data.</summary>
public class ComposeMetricsTests
{
    [Fact]
    public void Prometheus_scrapes_every_service_on_its_metrics_endpoint()
    {
        var config = Yaml.Load(Compose.HostPath("prometheus", PrometheusConfigPath()));
        var jobs = config.Seq("scrape_configs").Maps().ToList();
        // The dashboard serves no /metrics: it is a client, and the gateway's metrics show its calls.
        foreach (var app in AppService.Backend)
        {
            var port = Compose.Environment(app.Name)["ASPNETCORE_HTTP_PORTS"];
            var job = Assert.Single(jobs, j => Targets(j).Contains($"{app.Name}:{port}"));
            Assert.Equal("/metrics", job.Str("metrics_path") ?? "/metrics");
            Assert.Equal("http", job.Str("scheme") ?? "http");
            // Every replica of a scaled service is a target of its own, not whichever one DNS answers first.
            Assert.Empty(job.Seq("static_configs"));
        }
    }

    [Fact]
    public void Grafana_provisions_the_prometheus_datasource_and_the_orderstream_dashboard()
    {
        var provisioning = Compose.HostPath("grafana", "/etc/grafana/provisioning");
        var datasource = Assert.Single(YamlFiles(Path.Combine(provisioning, "datasources")).SelectMany(d => d.Seq("datasources").Maps()));
        Assert.Equal(("prometheus", "http://prometheus:9090"), (datasource.Str("type"), datasource.Str("url")));
        Assert.Contains("9090:9090", Compose.Service("prometheus").Seq("ports").Cast<string>());

        var provider = Assert.Single(YamlFiles(Path.Combine(provisioning, "dashboards")).SelectMany(d => d.Seq("providers").Maps()));
        var dashboards = Compose.HostPath("grafana", provider.Map("options").Str("path")!);
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(dashboards, "orderstream.json")));
        Assert.Equal("orderstream", dashboard.RootElement.GetProperty("uid").GetString());
        var targets = Panels(dashboard.RootElement).SelectMany(p => p.TryGetProperty("targets", out var t) ? t.EnumerateArray() : []).ToList();
        Assert.NotEmpty(targets);
        Assert.All(targets, t => Assert.Equal(datasource.Str("uid"), t.GetProperty("datasource").GetProperty("uid").GetString()));
        Assert.Equal(provider.Map("options").Str("path") + "/orderstream.json", Compose.Environment("grafana")["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]);
    }

    [Fact]
    public void The_dashboard_charts_the_saga_messaging_http_and_runtime_metrics_that_docs_list()
    {
        using var dashboard = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.Root, "deploy", "grafana", "dashboards", "orderstream.json")));
        var charted = Panels(dashboard.RootElement)
            .SelectMany(p => p.TryGetProperty("targets", out var t) ? t.EnumerateArray() : [])
            .SelectMany(t => Regex.Matches(t.GetProperty("expr").GetString()!, @"\b(?:orderstream|http|dotnet)_[a-z_]+").Select(m => Regex.Replace(m.Value, "_(bucket|count|sum)$", "")))
            .ToHashSet();
        string[] needed =
        [
            "orderstream_orders_accepted_total", "orderstream_orders_settled_total", "orderstream_saga_duration_seconds",
            "orderstream_consumer_lag", "orderstream_outbox_depth", "orderstream_messaging_dead_lettered_total",
            "orderstream_consumer_duplicates_total", "http_server_request_duration_seconds", "dotnet_gc_collections_total",
            "dotnet_process_cpu_time_seconds_total",
        ];
        Assert.Subset(charted, needed.ToHashSet());
        // Names as Prometheus shows them: a chart of a name the docs do not list is a typo or a metric that went away.
        var docs = File.ReadAllText(Path.Combine(Repo.Root, "docs", "observability.md"));
        Assert.All(charted, name => Assert.Contains($"`{name}`", docs));
    }

    private static string PrometheusConfigPath() =>
        Compose.Service("prometheus").Seq("command").Cast<string>().Select(a => Regex.Match(a, "^--config.file=(.+)$")).Single(m => m.Success).Groups[1].Value;

    // static_configs targets, and for DNS discovery each name with the job's port.
    private static IEnumerable<string> Targets(Dictionary<object, object> job) =>
        job.Seq("static_configs").Maps().SelectMany(c => c.Seq("targets").Cast<string>())
            .Concat(job.Seq("dns_sd_configs").Maps().SelectMany(c => c.Seq("names").Cast<string>().Select(n => $"{n}:{c.Str("port")}")));

    private static IEnumerable<Dictionary<object, object>> YamlFiles(string directory) =>
        Directory.GetFiles(directory, "*.y*ml").Select(Yaml.Load);

    private static IEnumerable<JsonElement> Panels(JsonElement container) =>
        container.TryGetProperty("panels", out var panels)
            ? panels.EnumerateArray().SelectMany(p => Panels(p).Prepend(p))
            : [];
}

/// <summary>
/// The topics compose's one-shot kafka-init job creates, read from its script: two nested loops,
/// <c>for topic in ...</c> and <c>for name in "$topic" "$topic.dlq"</c>, around <c>kafka-topics.sh --create</c>.
/// </summary>
internal static class KafkaInit
{
    public static readonly string Script = ReadScript();

    /// <summary>What kafka-init creates: deploy/topics.txt, mounted where its script reads it.</summary>
    public static IReadOnlyList<(string Name, int Partitions)> Entries { get; } = Read();

    public static IReadOnlyList<string> Topics => [.. Entries.Select(e => e.Name)];

    /// <summary>The fewest partitions of any topic: the most replicas of a consumer that all have work.</summary>
    public static int Partitions => Entries.Min(e => e.Partitions);

    private static string ReadScript()
    {
        var command = Compose.Service("kafka-init").Get("command");
        var script = command switch { List<object> list => string.Join("\n", list.Cast<string>()), string s => s, _ => "" };
        return script.Replace("$$", "$"); // compose's escape for a literal $
    }

    private static IReadOnlyList<(string, int)> Read()
    {
        Assert.Contains("./deploy/topics.txt:/orderstream/topics.txt:ro", Compose.Service("kafka-init").Seq("volumes").Cast<string>());
        Assert.Matches(@"grep -v '\^#' /orderstream/topics.txt \| while read -r name partitions; do", Script);
        Assert.Contains("--create", Script);
        Assert.Contains("--topic \"$name\" --partitions \"$partitions\"", Script);
        return [.. TopicsFile.Entries(File.ReadAllText(TopicsFile.Path))];
    }
}
