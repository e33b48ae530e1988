using DotNet.Testcontainers.Builders;
using DotNet.Testcontainers.Containers;

namespace OrderStream.TestSupport;

public enum TestInfraMode { Embedded, Containers }

/// <summary>
/// Where the tests' PostgreSQL, Redis and Kafka run, read from <see cref="Variable"/>: <c>embedded</c> (the
/// default: local processes and librdkafka's mock cluster) or <c>containers</c> (Apache Kafka, PostgreSQL
/// and Redis in Docker through Testcontainers, the images docker-compose.yml runs).
/// </summary>
public static class TestInfra
{
    public const string Variable = "ORDERSTREAM_TEST_INFRA";

    /// <summary>The earlier switch to an external broker; that broker was shared by every test class (fixed consumer group names, no broker outage), so it is refused rather than ignored.</summary>
    public const string RetiredKafkaVariable = "ORDERSTREAM_TEST_KAFKA";

    public static TestInfraMode Mode => From(Environment.GetEnvironmentVariable);

    public static TestInfraMode From(Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(environment(RetiredKafkaVariable)))
            throw new InvalidOperationException($"{RetiredKafkaVariable} is no longer read: set {Variable}=containers to run the tests against Apache Kafka (and PostgreSQL and Redis) in containers.");
        return environment(Variable)?.Trim().ToLowerInvariant() switch
        {
            null or "" or "embedded" => TestInfraMode.Embedded,
            "containers" => TestInfraMode.Containers,
            var other => throw new InvalidOperationException($"{Variable}={other} is not a test infrastructure: use 'embedded' (the default) or 'containers' (needs Docker)."),
        };
    }

    /// <summary>Builds and starts a container, saying which setting asked for Docker when there is none.</summary>
    internal static TContainer Start<TContainer>(Func<TContainer> build) where TContainer : IContainer
    {
        TContainer container;
        try { container = build(); }
        catch (DockerUnavailableException e)
        {
            throw new InvalidOperationException($"{Variable}=containers runs the test servers in Docker, and no Docker engine answers; unset it to use the embedded servers. {e.Message}", e);
        }
        container.StartAsync().GetAwaiter().GetResult();
        return container;
    }
}

/// <summary>The images of the container mode: those docker-compose.yml runs (a test keeps them equal).</summary>
public static class ContainerImages
{
    /// <summary>Kafka 4: the services' consumers use the KIP-848 group protocol.</summary>
    public const string Kafka = "apache/kafka:4.1.0";
    public const string Postgres = "postgres:15.13";
    public const string Redis = "redis:7.4.2";
}
