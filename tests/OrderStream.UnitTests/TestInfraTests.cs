using System.Reflection;
using DotNet.Testcontainers.Configurations;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using Testcontainers.PostgreSql;

namespace OrderStream.UnitTests;

/// <summary>
/// The container mode's choice and configuration, checked without Docker (this machine has none): the
/// builders are inspected as configured, since only Build() and StartAsync() need an engine.
/// </summary>
public class TestInfraTests
{
    [Theory]
    [InlineData(null, TestInfraMode.Embedded)]
    [InlineData("", TestInfraMode.Embedded)]
    [InlineData("embedded", TestInfraMode.Embedded)]
    [InlineData("containers", TestInfraMode.Containers)]
    [InlineData(" Containers ", TestInfraMode.Containers)]
    public void The_mode_comes_from_ORDERSTREAM_TEST_INFRA_and_defaults_to_embedded(string? value, TestInfraMode mode) =>
        Assert.Equal(mode, TestInfra.From(name => name == TestInfra.Variable ? value : null));

    [Theory]
    [InlineData("docker")]
    [InlineData("container")]
    public void An_unknown_mode_is_an_error_naming_the_choices(string value)
    {
        var error = Assert.Throws<InvalidOperationException>(() => TestInfra.From(name => name == TestInfra.Variable ? value : null));
        Assert.Contains($"ORDERSTREAM_TEST_INFRA={value}", error.Message);
        Assert.Contains("'containers'", error.Message);
    }

    [Fact]
    public void The_retired_external_broker_setting_is_an_error_not_ignored()
    {
        var error = Assert.Throws<InvalidOperationException>(() => TestInfra.From(name => name == "ORDERSTREAM_TEST_KAFKA" ? "localhost:9092" : null));
        Assert.Contains("ORDERSTREAM_TEST_INFRA=containers", error.Message);
    }

    [Fact]
    public void The_containers_run_the_images_docker_compose_runs()
    {
        var composeImages = File.ReadLines(Path.Combine(Repo.Root, "docker-compose.yml"))
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("image: ", StringComparison.Ordinal))
            .Select(line => line["image: ".Length..])
            .ToHashSet();
        Assert.Subset(composeImages, new HashSet<string> { ContainerImages.Kafka, ContainerImages.Postgres, ContainerImages.Redis });
        Assert.StartsWith("apache/kafka:4.", ContainerImages.Kafka); // KIP-848 consumer groups need Kafka 4
    }

    [Fact]
    public void The_Kafka_container_is_Apache_Kafka_without_auto_created_topics_and_with_the_embedded_session_timeout()
    {
        var config = Configuration(KafkaContainerCluster.Builder());
        Assert.Equal(ContainerImages.Kafka, config.Image.FullName);
        Assert.Equal("false", config.Environments["KAFKA_AUTO_CREATE_TOPICS_ENABLE"]);
        Assert.Equal("10000", config.Environments["KAFKA_GROUP_CONSUMER_SESSION_TIMEOUT_MS"]);
        Assert.Equal("10000", config.Environments["KAFKA_GROUP_CONSUMER_MIN_SESSION_TIMEOUT_MS"]);
    }

    [Fact]
    public void Both_modes_create_every_saga_and_dead_letter_topic_with_the_test_partition_count()
    {
        Assert.Equal(Topics.AllWithDeadLetters(), KafkaTestCluster.TopicSpecifications.Select(t => t.Name));
        Assert.All(KafkaTestCluster.TopicSpecifications, t => Assert.Equal((KafkaTestCluster.Partitions, (short)1), (t.NumPartitions, t.ReplicationFactor)));
    }

    [Fact]
    public async Task The_PostgreSQL_container_gets_the_database_script_the_embedded_server_runs_and_keeps_its_port_across_restarts()
    {
        var config = Configuration(PostgresContainerServer.Builder(hostPort: 45432));
        Assert.Equal(ContainerImages.Postgres, config.Image.FullName);
        Assert.Equal("postgres", config.Environments["POSTGRES_USER"]);
        Assert.Equal("45432", config.PortBindings[PostgreSqlBuilder.PostgreSqlPort.ToString()]);
        Assert.All(PostgresServer.Settings, setting => Assert.Contains($"-c {setting}", string.Join(' ', config.Command)));

        var script = Assert.Single(config.ResourceMappings, m => m.Target == PostgresContainerServer.ScriptInContainer);
        Assert.Equal(Path.Combine(Repo.Root, "deploy", "postgres", "service-database.sql"), PostgresServer.DatabaseScript);
        Assert.Equal(await File.ReadAllBytesAsync(PostgresServer.DatabaseScript), await script.GetAllBytesAsync());
    }

    [Fact]
    public void The_Redis_container_runs_redis_server_without_persistence_as_the_embedded_one()
    {
        var config = Configuration(RedisContainerServer.Builder());
        Assert.Equal(ContainerImages.Redis, config.Image.FullName);
        Assert.Equal(["redis-server", "--save", "", "--appendonly", "no"], config.Command);
    }

    // Testcontainers shows a builder's configuration only to subclasses, and its module builders are sealed.
    private static IContainerConfiguration Configuration(object builder) =>
        (IContainerConfiguration)builder.GetType()
            .GetProperty("DockerResourceConfiguration", BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.DeclaredOnly)!
            .GetValue(builder)!;
}
