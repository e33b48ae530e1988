using OrderStream.TestSupport;

namespace OrderStream.DeployTests;

/// <summary>Every document of every YAML file under deploy/k8s.</summary>
internal static class Kubernetes
{
    public static readonly string Root = Path.Combine(Repo.Root, "deploy", "k8s");

    public static IReadOnlyList<(string File, Dictionary<object, object> Doc)> Documents { get; } =
        [.. Directory.GetFiles(Root, "*.yaml", SearchOption.AllDirectories).Concat(Directory.GetFiles(Root, "*.yml", SearchOption.AllDirectories))
            .Order(StringComparer.Ordinal)
            .SelectMany(file => Yaml.LoadAll(file).Select(doc => (file, doc)))];

    public static IEnumerable<Dictionary<object, object>> OfKind(string kind) =>
        Documents.Where(d => d.Doc.Str("kind") == kind).Select(d => d.Doc);

    public static Dictionary<object, object> Named(string kind, string name) =>
        Assert.Single(OfKind(kind), d => d.Map("metadata").Str("name") == name);

    public static Dictionary<object, object> Container(Dictionary<object, object> deployment) =>
        Assert.Single(deployment.Map("spec").Map("template").Map("spec").Seq("containers").Maps());

    public static IEnumerable<Dictionary<object, object>> Env(Dictionary<object, object> deployment) =>
        Container(deployment).Seq("env").Maps();
}
