using System.Diagnostics;
using System.Net.Sockets;
using StackExchange.Redis;

namespace OrderStream.TestSupport;

/// <summary>A redis-server on a free port, without persistence, for one test class.</summary>
public sealed class RedisServer : IDisposable
{
    private readonly Process _process;
    public int Port { get; }
    public string Configuration => $"127.0.0.1:{Port}";

    public RedisServer()
    {
        Port = Repo.FreePort();
        var psi = new ProcessStartInfo("redis-server") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--port", Port.ToString(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" }) psi.ArgumentList.Add(a);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("redis-server did not start; run deploy/local/test.sh, which installs it.");
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try { using var c = new TcpClient("127.0.0.1", Port); break; }
            catch (SocketException) when (DateTime.UtcNow < deadline) { Thread.Sleep(50); }
        }
    }

    /// <summary>Deletes <paramref name="key"/>, as if it had expired; false if there was none.</summary>
    public async Task<bool> DeleteAsync(string key)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(Configuration);
        return await redis.GetDatabase().KeyDeleteAsync(key);
    }

    /// <summary>Kills the server, as in an outage (the port stays reserved for nothing else in the test).</summary>
    public void Kill()
    {
        try { _process.Kill(); _process.WaitForExit(5_000); } catch (InvalidOperationException) { }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
