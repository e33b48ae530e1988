using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.DeployTests;

/// <summary>
/// The deploy files that list services or topics agree with the one declaration of them,
/// shared/OrderStream.Contracts/Catalogue.cs. Generated files are rewritten by running these tests with
/// ORDERSTREAM_REGENERATE=1; otherwise a file that drifted fails its test, which says how to fix it.
/// </summary>
public class CatalogueFileTests
{
    [Fact]
    public void Topics_file_is_generated_from_the_catalogue() => Generated.Check(TopicsFile.Path, TopicsFile.Render());

    [Fact]
    public void Prometheus_config_is_generated_from_the_catalogue() =>
        Generated.Check(Path.Combine(Repo.Root, "deploy", "prometheus", "prometheus.yml"), PrometheusConfig.Render());

    [Fact]
    public void Postgres_creates_one_database_and_role_for_each_service_that_has_one()
    {
        var passwords = Compose.Environment("postgres").Keys.Where(k => k.EndsWith("_DB_PASSWORD", StringComparison.Ordinal));
        Assert.Equal(
            Catalogue.All.Where(s => s.Database is not null).Select(s => s.Database!.ToUpperInvariant() + "_DB_PASSWORD").Order(StringComparer.Ordinal),
            passwords.Order(StringComparer.Ordinal));
        // The init script takes its list from those variables, so it names no service itself.
        var script = File.ReadAllText(Path.Combine(Repo.Root, "deploy", "compose", "postgres-init.sh"));
        foreach (var service in Catalogue.All) Assert.DoesNotContain(service.Key + " ", script);
    }

    [Fact]
    public void Compose_and_kubernetes_run_exactly_the_catalogue_services()
    {
        var built = Compose.Services.Where(s => s.Value.ContainsKey("build")).Select(s => s.Key);
        Assert.Equal(Catalogue.All.Select(s => s.Name).Order(StringComparer.Ordinal), built.Order(StringComparer.Ordinal));
        // The mocks of outside systems are no Deployment: in Kubernetes the real systems are there, configured by address.
        var deployments = Kubernetes.OfKind("Deployment").Select(d => d.Map("metadata").Str("name"));
        Assert.Equal(Catalogue.All.Where(s => s.Kind != ServiceKind.Mock).Select(s => s.Name).Order(StringComparer.Ordinal), deployments.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_service_reaches_the_services_it_calls_by_their_names_in_compose_and_kubernetes()
    {
        var config = Kubernetes.Named("ConfigMap", "orderstream-config").Map("data");
        foreach (var service in Catalogue.All)
        {
            var env = Compose.Environment(service.Name);
            foreach (var callee in service.Calls.Select(Catalogue.ByKey).Where(c => c.Kind == ServiceKind.Saga && service.Kind == ServiceKind.Saga))
            {
                var setting = callee.AddressSetting.Replace(":", "__");
                Assert.Equal($"http://{callee.Name}:8080", env[setting]);
                Assert.Equal($"http://{callee.Name}:8080", config.Str(setting));
            }
        }
    }
}

/// <summary>deploy/topics.txt: every topic a Kafka cluster must provide, with its partitions (compose's kafka-init reads it).</summary>
internal static class TopicsFile
{
    public static readonly string Path = System.IO.Path.Combine(Repo.Root, "deploy", "topics.txt");

    public static string Render() =>
        "# Every topic a Kafka cluster must provide: each saga topic, then its dead-letter topic, with partitions.\n" +
        "# Generated from shared/OrderStream.Contracts/Catalogue.cs: ORDERSTREAM_REGENERATE=1 dotnet test tests/OrderStream.DeployTests\n" +
        string.Concat(Catalogue.SagaTopics.SelectMany(t => new[] { $"{t.Name} {t.Partitions}\n", $"{t.DeadLetter} {t.Partitions}\n" }));

    public static IEnumerable<(string Name, int Partitions)> Entries(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(line => !line.StartsWith('#'))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(words => (words[0], int.Parse(words[1])));
}

/// <summary>deploy/prometheus/prometheus.yml: one scrape job per saga service (the dashboard serves no /metrics).</summary>
internal static class PrometheusConfig
{
    public static string Render() =>
        """
        # Prometheus in docker-compose: scrapes every OrderStream service's GET /metrics.
        # One job per service, so the job label is the service name. Each job looks its service up by DNS:
        # Docker's DNS answers with every container of the service, so `--scale inventory=3` scrapes all three
        # (a static target would hit one replica per scrape, at random).
        # Generated from shared/OrderStream.Contracts/Catalogue.cs: ORDERSTREAM_REGENERATE=1 dotnet test tests/OrderStream.DeployTests
        global:
          scrape_interval: 5s
          evaluation_interval: 5s

        scrape_configs:

        """ + string.Concat(Catalogue.SagaServices.OrderBy(s => s == Catalogue.ApiGateway ? 0 : 1).Select(s => $"""
          - job_name: {s.Name}
            dns_sd_configs:
              - names: [{s.Name}]
                type: A
                port: 8080
                refresh_interval: 15s

        """));
}

/// <summary>A file generated from the catalogue: rewritten on request, otherwise checked.</summary>
internal static class Generated
{
    public static void Check(string path, string expected)
    {
        if (Environment.GetEnvironmentVariable("ORDERSTREAM_REGENERATE") == "1")
        {
            File.WriteAllText(path, expected);
            return;
        }
        var actual = File.Exists(path) ? File.ReadAllText(path) : "";
        Assert.True(expected == actual,
            $"{System.IO.Path.GetRelativePath(Repo.Root, path)} differs from what the catalogue gives; regenerate it with: ORDERSTREAM_REGENERATE=1 dotnet test tests/OrderStream.DeployTests --filter CatalogueFileTests");
    }
}
