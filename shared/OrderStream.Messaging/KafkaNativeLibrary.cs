using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace OrderStream.Messaging;

/// <summary>
/// Which librdkafka this process uses: always the build that comes with the librdkafka.redist
/// package, the one Confluent.Kafka was released against, never one installed on the machine.
/// </summary>
/// <remarks>
/// The package ships three Linux builds. The default one links libsasl2.so.3, which Debian 12 does
/// not have (it has .so.2), so it fails to load; Confluent.Kafka then asks the system loader for
/// "librdkafka", and a distribution package (Debian's is 2.0.2) would win silently and break
/// Consume with a missing entry point. The "centos8" build needs only glibc. So every DllImport of
/// "librdkafka" (Confluent.Kafka's, and the embedded cluster's) resolves to the package's centos8
/// build, found next to the application. Elsewhere (Windows, macOS, musl) the binding's own loading
/// applies. The rule runs as this assembly's module initializer, before any client is built, and
/// <see cref="Use"/> lets an entry point that reaches Confluent.Kafka first ask for it explicitly.
/// </remarks>
public static class KafkaNativeLibrary
{
    private static readonly Lock Gate = new();
    private static readonly HashSet<Assembly> Resolved = [];
    private static readonly Lazy<IntPtr> Library = new(Load);

    /// <summary>The packaged library's path, or null where the binding's own loading applies.</summary>
    public static string? PackagedPath { get; } = FindPackaged();

    /// <summary>
    /// The loaded library's handle. Resolves to the packaged build where there is one, else to what
    /// Confluent.Kafka itself loaded.
    /// </summary>
    public static IntPtr Handle => Library.Value;

#pragma warning disable CA2255 // the rule must hold before the first client is built, whoever builds it
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize() => Use();

    /// <summary>Makes Confluent.Kafka load the packaged librdkafka. Idempotent.</summary>
    public static void Use() => ResolveFor(typeof(Confluent.Kafka.Library).Assembly);

    /// <summary>Resolves <c>[DllImport("librdkafka")]</c> in <paramref name="assembly"/> to the same library as Confluent.Kafka's.</summary>
    public static void ResolveFor(Assembly assembly)
    {
        if (PackagedPath is null) return;
        lock (Gate)
        {
            if (!Resolved.Add(assembly)) return;
            NativeLibrary.SetDllImportResolver(assembly, (name, _, _) => name switch
            {
                "librdkafka" or "librdkafka.so" or "centos8-librdkafka.so" => Library.Value,
                // Confluent.Kafka's dlopen binding asks for "libdl", which glibc 2.34+ ships only as libdl.so.2.
                "libdl" => NativeLibrary.TryLoad("libdl.so.2", out var dl) ? dl : IntPtr.Zero,
                _ => IntPtr.Zero,
            });
        }
    }

    private static IntPtr Load() => PackagedPath is not null
        ? NativeLibrary.Load(PackagedPath)
        : NativeLibrary.Load("librdkafka", typeof(Confluent.Kafka.Library).Assembly, null);

    private static string? FindPackaged()
    {
        if (!OperatingSystem.IsLinux() || IsMusl()) return null;
        var rid = "linux-" + RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        const string file = "centos8-librdkafka.so";
        // A RID-specific publish flattens native assets into the app's folder; a plain build keeps runtimes/.
        return new[] { Path.Combine(AppContext.BaseDirectory, file), Path.Combine(AppContext.BaseDirectory, "runtimes", rid, "native", file) }
            .FirstOrDefault(File.Exists);
    }

    private static bool IsMusl() => File.Exists("/etc/alpine-release");
}
