using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace OrderStream.DeployTests;

/// <summary>
/// YAML read as plain maps, lists and strings (YamlDotNet resolves anchors and aliases): the tests
/// check what the files say without a schema of our own that could drift from them.
/// </summary>
internal static class Yaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    /// <summary>Every non-empty document of a file (Kubernetes files hold several, split by <c>---</c>).</summary>
    public static IReadOnlyList<Dictionary<object, object>> LoadAll(string path)
    {
        using var reader = new StreamReader(path);
        var parser = new Parser(reader);
        parser.Consume<StreamStart>();
        var documents = new List<Dictionary<object, object>>();
        while (parser.Accept<DocumentStart>(out _))
        {
            var document = Deserializer.Deserialize<Dictionary<object, object>?>(parser);
            if (document is not null) documents.Add(document);
        }
        return documents;
    }

    public static Dictionary<object, object> Load(string path) => Assert.Single(LoadAll(path));

    public static object? Get(this Dictionary<object, object>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;

    public static Dictionary<object, object>? Map(this Dictionary<object, object>? map, string key) =>
        map.Get(key) as Dictionary<object, object>;

    public static List<object> Seq(this Dictionary<object, object>? map, string key) =>
        map.Get(key) as List<object> ?? [];

    public static string? Str(this Dictionary<object, object>? map, string key) => map.Get(key) as string;

    public static IEnumerable<Dictionary<object, object>> Maps(this IEnumerable<object> items) =>
        items.OfType<Dictionary<object, object>>();
}
