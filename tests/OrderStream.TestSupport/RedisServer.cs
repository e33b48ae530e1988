using System.Diagnostics;
using System.Net.Sockets;
using StackExchange.Redis;
using Testcontainers.Redis;

namespace OrderStream.TestSupport;

/// <summary>A Redis server without persistence for one test class: redis-server on a free port, or a container (see <see cref="TestInfra"/>).</summary>
public abstract class RedisServer : IDisposable
{
    /// <summary>redis-server's options in both modes: a cache, nothing written to disk.</summary>
    public static readonly IReadOnlyList<string> Options = ["--save", "", "--appendonly", "no"];

    public static RedisServer Start() => TestInfra.Mode switch
    {
        TestInfraMode.Containers => new RedisContainerServer(),
        _ => new LocalRedisServer(),
    };

    /// <summary>StackExchange.Redis configuration (host:port).</summary>
    public abstract string Configuration { get; }

    /// <summary>Stops the server, as in an outage (its address stays reserved for nothing else in the test).</summary>
    public abstract void Kill();

    /// <summary>Deletes <paramref name="key"/>, as if it had expired; false if there was none.</summary>
    public async Task<bool> DeleteAsync(string key)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Configuration);
        return await redis.GetDatabase().KeyDeleteAsync(key);
    }

    public abstract void Dispose();
}

public sealed class LocalRedisServer : RedisServer
{
    private readonly Process _process;
    private readonly int _port = Repo.FreePort();

    public override string Configuration => $"127.0.0.1:{_port}";

    public LocalRedisServer()
    {
        var psi = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", _port.ToString(), "--bind", "127.0.0.1" }.Concat(Options)) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start; run deploy/local/test.sh, which installs it.");
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try { using var c = new TcpClient("127.0.0.1", _port); break; }
            catch (SocketException) when (DateTime.UtcNow < deadline) { Thread.Sleep(50); }
        }
    }

    public override void Kill()
    {
        try { _process.Kill(); _process.WaitForExit(5_000); } catch (InvalidOperationException) { }
    }

    public override void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}

/// <summary>Redis in a container of docker-compose's image.</summary>
public sealed class RedisContainerServer : RedisServer
{
    private readonly RedisContainer _container;

    public override string Configuration { get; }

    public RedisContainerServer()
    {
        _container = TestInfra.Start(() => Builder().Build());
        Configuration = _container.GetConnectionString();
    }

    /// <summary>The container as configured (building it needs Docker; the configuration does not).</summary>
    public static RedisBuilder Builder() => new RedisBuilder(ContainerImages.Redis).WithCommand(["redis-server", .. Options]);

    public override void Kill() => _container.StopAsync().GetAwaiter().GetResult();

    public override void Dispose() => _container.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
