using System.Text.Json;
using System.Text.RegularExpressions;

namespace OrderStream.DeployTests;

/// <summary>
/// A Dockerfile's instructions, continuation lines joined, comments dropped, split into stages at FROM,
/// with its build arguments (<c>${NAME}</c>) filled in from <paramref name="args"/>, or from an <c>ARG NAME=default</c>
/// the build does not give.
/// </summary>
public sealed class Dockerfile
{
    /// <summary>The one Dockerfile of every service.</summary>
    public static readonly string SharedPath = Path.Combine(OrderStream.TestSupport.Repo.Root, "deploy", "docker", "Dockerfile");

    public sealed record Instruction(string Keyword, string Arguments);

    public sealed record Copy(IReadOnlyList<string> Sources, string Destination, string? From);

    public IReadOnlyList<IReadOnlyList<Instruction>> Stages { get; }

    public Dockerfile(string path, IReadOnlyDictionary<string, string>? args = null)
    {
        var instructions = new List<Instruction>();
        var given = new Dictionary<string, string>(args ?? new Dictionary<string, string>());
        var pending = "";
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (pending == "" && (line.Length == 0 || line.StartsWith('#'))) continue;
            if (line.EndsWith('\\')) { pending += line[..^1] + " "; continue; }
            var full = (pending + line).Trim();
            foreach (var (name, value) in given) full = full.Replace("${" + name + "}", value, StringComparison.Ordinal);
            pending = "";
            var space = full.IndexOf(' ');
            var instruction = new Instruction(full[..space].ToUpperInvariant(), full[(space + 1)..].Trim());
            // A default applies to the lines after it unless the build gives the argument.
            if (instruction is { Keyword: "ARG" } && instruction.Arguments.Split('=', 2) is [var arg, var fallback]) given.TryAdd(arg, fallback);
            instructions.Add(instruction);
        }
        var stages = new List<IReadOnlyList<Instruction>>();
        foreach (var instruction in instructions)
        {
            if (instruction.Keyword == "FROM") stages.Add(new List<Instruction>());
            if (stages.Count == 0) continue; // ARG before the first FROM
            ((List<Instruction>)stages[^1]).Add(instruction);
        }
        Stages = stages;
    }

    /// <summary>Images named by FROM, leaving out references to earlier stages.</summary>
    public IEnumerable<string> BaseImages()
    {
        var stageNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var stage in Stages)
        {
            var words = stage[0].Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--")).ToArray();
            if (!stageNames.Contains(words[0])) yield return words[0];
            if (words.Length == 3 && words[1].Equals("AS", StringComparison.OrdinalIgnoreCase)) stageNames.Add(words[2]);
        }
    }

    /// <summary>The stage that runs <c>dotnet publish</c>.</summary>
    public IReadOnlyList<Instruction> BuildStage =>
        Assert.Single(Stages, s => s.Any(i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish")));

    public string PublishCommand =>
        Assert.Single(BuildStage, i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish")).Arguments;

    /// <summary>The project file <c>dotnet publish</c> is given (its first argument that is not an option).</summary>
    public string PublishedProject
    {
        get
        {
            var match = Regex.Match(PublishCommand, @"dotnet publish\s+(?<project>[^\s-][^\s]*)");
            Assert.True(match.Success, "no project path after `dotnet publish`: " + PublishCommand);
            return match.Groups["project"].Value;
        }
    }

    public IEnumerable<Copy> Copies(IReadOnlyList<Instruction> stage) =>
        stage.Where(i => i.Keyword is "COPY" or "ADD").Select(i =>
        {
            var words = i.Arguments.StartsWith('[')
                ? JsonSerializer.Deserialize<string[]>(i.Arguments)!
                : i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var from = words.FirstOrDefault(w => w.StartsWith("--from="))?["--from=".Length..];
            var paths = words.Where(w => !w.StartsWith("--")).ToArray();
            return new Copy(paths[..^1], paths[^1], from);
        });

    /// <summary>The assembly the image starts: <c>ENV APP_DLL</c> of the final stage, which the ENTRYPOINT runs.</summary>
    public string EntrypointDll
    {
        get
        {
            var entrypoint = Assert.Single(Stages[^1], i => i.Keyword == "ENTRYPOINT").Arguments;
            Assert.Contains("dotnet \\\"$APP_DLL\\\"", entrypoint);
            var env = Assert.Single(Stages[^1], i => i.Keyword == "ENV" && i.Arguments.StartsWith("APP_DLL=", StringComparison.Ordinal)).Arguments;
            return env["APP_DLL=".Length..];
        }
    }
}
