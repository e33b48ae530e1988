using System.Data.Common;
using System.Text.Json;
using System.Text.RegularExpressions;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.DeployTests;

/// <summary>
/// One of the processes with an image: its name (compose service, Deployment), its database and its project's
/// folder (<see cref="ServiceSpec.Folder"/>). The dashboard has no database: it is a client of the gateway, no part
/// of the saga. A mock vendor has neither, and no Deployment (<see cref="Mocks"/>).
/// </summary>
public sealed record AppService(string Name, string? Database, string Folder)
{
    public string Directory => Path.Combine(Repo.Root, Folder);

    /// <summary>
    /// The consumer group the service uses by default: the service name its Program.cs passes to
    /// <c>ServiceDefaults.CreateBuilder</c>. Null for a service that consumes nothing.
    /// </summary>
    public string? DefaultGroupId()
    {
        if (Database is null) return null;
        var program = File.ReadAllText(Path.Combine(Directory, "Program.cs"));
        var name = Regex.Match(program, """ServiceDefaults\.CreateBuilder\(args, "([^"]+)"\)""");
        Assert.True(name.Success, $"{Name}/Program.cs names its service in ServiceDefaults.CreateBuilder");
        return program.Contains("AddEventConsumer()", StringComparison.Ordinal) ? name.Groups[1].Value : null;
    }

    public override string ToString() => Name;

    public static readonly AppService Dashboard = From(Catalogue.Dashboard);

    /// <summary>The saga services of the catalogue, each with its own database.</summary>
    public static readonly IReadOnlyList<AppService> Backend = [.. Catalogue.SagaServices.Select(From)];

    /// <summary>Every service with an image, a compose service and a Deployment: every process of the catalogue but the mocks.</summary>
    public static readonly IReadOnlyList<AppService> All = [.. Catalogue.All.Where(s => s.Kind != ServiceKind.Mock).Select(From)];

    /// <summary>
    /// The mocks of outside systems (the vendors): an image and a compose service each, but no Deployment, since in
    /// Kubernetes the real systems are there and their addresses are configuration (deploy/k8s/README.md).
    /// </summary>
    public static readonly IReadOnlyList<AppService> Mocks = [.. Catalogue.Mocks.Select(From)];

    /// <summary>Everything built from the one Dockerfile.</summary>
    public static readonly IReadOnlyList<AppService> Images = [.. All, .. Mocks];

    private static AppService From(ServiceSpec spec) => new(spec.Name, spec.Database, spec.Folder);

    public static TheoryData<AppService> Theory => new(All);

    public static TheoryData<AppService> ImageTheory => new(Images);

    public static TheoryData<AppService> BackendTheory => new(Backend);
}

internal static class Compose
{
    public static readonly string Path = System.IO.Path.Combine(Repo.Root, "docker-compose.yml");
    public static readonly Dictionary<object, object> File = Yaml.Load(Path);

    public static IReadOnlyDictionary<string, Dictionary<object, object>> Services { get; } =
        File.Map("services")!.ToDictionary(kv => (string)kv.Key, kv => (Dictionary<object, object>)kv.Value);

    public static Dictionary<object, object> Service(string name) =>
        Services.TryGetValue(name, out var service) ? service : throw new KeyNotFoundException($"docker-compose.yml has no service '{name}'");

    /// <summary>The file or directory on the host that a service mounts at <paramref name="containerPath"/> (short volume syntax).</summary>
    public static string HostPath(string service, string containerPath)
    {
        var mounts = Service(service).Seq("volumes").Cast<string>().Select(v => v.Split(':')).Where(v => v.Length >= 2 && v[0].StartsWith('.'));
        var mount = mounts.SingleOrDefault(v => v[1] == containerPath)
            ?? throw new KeyNotFoundException($"docker-compose.yml's {service} mounts nothing from the repository at {containerPath}");
        var path = System.IO.Path.GetFullPath(System.IO.Path.Combine(Repo.Root, mount[0]));
        Assert.True(System.IO.File.Exists(path) || Directory.Exists(path), $"{service} mounts {mount[0]}, which does not exist");
        return path;
    }

    /// <summary>A service's environment, whether written as a map or as a list of NAME=value.</summary>
    public static IReadOnlyDictionary<string, string?> Environment(string service) =>
        Service(service).Get("environment") switch
        {
            Dictionary<object, object> map => map.ToDictionary(kv => (string)kv.Key, kv => kv.Value as string),
            List<object> list => list.Cast<string>().Select(e => e.Split('=', 2))
                .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : null),
            _ => new Dictionary<string, string?>(),
        };
}

internal static class ConnectionString
{
    public static IReadOnlyDictionary<string, string> Parse(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return builder.Keys.Cast<string>().ToDictionary(k => k, k => builder[k].ToString()!, StringComparer.OrdinalIgnoreCase);
    }
}

/// <summary>Image references: <c>repository[:tag][@digest]</c>, where the repository may hold a registry port.</summary>
public static class ImageRef
{
    public static string Repository(string image)
    {
        var name = image.Split('@')[0];
        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/') ? name[..colon] : name;
    }

    public static string? Tag(string image)
    {
        var name = image.Split('@')[0];
        var colon = name.LastIndexOf(':');
        return colon > name.LastIndexOf('/') ? name[(colon + 1)..] : null;
    }

    /// <summary>
    /// A digest, or a fixed tag other than <c>latest</c>. A variable (<c>${TAG:-1.0}</c>) is not a pin:
    /// what runs would depend on the caller's environment.
    /// </summary>
    public static bool IsPinned(string image) =>
        !image.Contains('$') &&
        (image.Contains("@sha256:", StringComparison.Ordinal) || Tag(image) is { Length: > 0 } tag && tag != "latest");
}
