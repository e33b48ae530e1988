using System.Xml.Linq;
using OrderStream.TestSupport;

namespace OrderStream.DeployTests;

/// <summary>
/// deploy/docker/Dockerfile, the one image recipe, read as data for each service with the build arguments
/// docker-compose.yml gives it (deploy/docker/check-builds.sh also runs its publish command here). The
/// build context is the repository root, and the build stage copies paths to the same paths under its
/// WORKDIR, so a path in the Dockerfile is a path in the repository.
/// </summary>
public class DockerfileTests
{
    private static Dockerfile For(AppService app) => new(Dockerfile.SharedPath, BuildArgs(app));

    private static Dictionary<string, string> BuildArgs(AppService app) =>
        Compose.Service(app.Name).Map("build")?.Map("args")?.ToDictionary(kv => (string)kv.Key, kv => kv.Value.ToString()!) ?? [];

    [Theory]
    [MemberData(nameof(AppService.ImageTheory), MemberType = typeof(AppService))]
    public void Build_stage_copies_paths_that_exist_to_the_same_place(AppService app)
    {
        var dockerfile = For(app);
        var copies = dockerfile.Copies(dockerfile.BuildStage).Where(c => c.From is null).ToList();
        Assert.NotEmpty(copies);
        foreach (var copy in copies)
        {
            foreach (var source in copy.Sources)
                Assert.True(File.Exists(Path.Combine(Repo.Root, source)) || Directory.Exists(Path.Combine(Repo.Root, source)),
                    $"Dockerfile for {app.Name} copies '{source}', which is not in the repository");
            var mirrored = copy.Destination is "./" or "." || copy.Sources.Count == 1 && copy.Sources[0] == copy.Destination;
            Assert.True(mirrored, $"Dockerfile for {app.Name} copies {string.Join(" ", copy.Sources)} to '{copy.Destination}': keep the repository's layout");
        }
    }

    [Theory]
    [MemberData(nameof(AppService.ImageTheory), MemberType = typeof(AppService))]
    public void Publish_command_names_the_service_project_and_entrypoint_its_assembly(AppService app)
    {
        var dockerfile = For(app);
        var project = Path.Combine(Repo.Root, dockerfile.PublishedProject);
        Assert.True(File.Exists(project), $"The Dockerfile for {app.Name} publishes '{dockerfile.PublishedProject}', which does not exist");
        Assert.Equal(Path.GetFullPath(app.Directory), Path.GetDirectoryName(Path.GetFullPath(project)));
        Assert.Equal(AssemblyName(project) + ".dll", dockerfile.EntrypointDll);
    }

    [Theory]
    [MemberData(nameof(AppService.ImageTheory), MemberType = typeof(AppService))]
    public void Build_context_holds_every_project_the_service_references(AppService app)
    {
        var dockerfile = For(app);
        var copied = dockerfile.Copies(dockerfile.BuildStage).Where(c => c.From is null)
            .SelectMany(c => c.Sources).Select(s => Path.GetFullPath(Path.Combine(Repo.Root, s))).ToList();
        bool IsCopied(string path) => copied.Any(c => path == c || path.StartsWith(c.TrimEnd('/') + "/", StringComparison.Ordinal));

        foreach (var project in ProjectClosure(Path.Combine(Repo.Root, dockerfile.PublishedProject)))
            Assert.True(IsCopied(project), $"{app.Name} builds {Path.GetRelativePath(Repo.Root, project)}, which the Dockerfile does not copy");
        // MSBuild imports these from the root for every project: without them the image builds differently, or not at all.
        foreach (var file in Directory.GetFiles(Repo.Root, "Directory.*").Concat(new[] { "NuGet.config", "nuget.config", "global.json" }.Select(f => Path.Combine(Repo.Root, f))).Where(File.Exists))
            Assert.True(IsCopied(Path.GetFullPath(file)), $"The Dockerfile for {app.Name} does not copy {Path.GetFileName(file)}");
    }

    [Fact]
    public void Every_service_is_built_from_the_one_dockerfile_named_by_its_directory_and_project()
    {
        var withProject = Directory.GetDirectories(Path.Combine(Repo.Root, "services"))
            .Where(d => Directory.GetFiles(d, "*.csproj").Length > 0).Select(Path.GetFileName).Order();
        Assert.Equal(AppService.All.Select(a => a.Name).Order(), withProject);
        Assert.Empty(Directory.GetFiles(Path.Combine(Repo.Root, "services"), "Dockerfile", SearchOption.AllDirectories));
        foreach (var app in AppService.All)
        {
            var build = Compose.Service(app.Name).Map("build");
            Assert.Equal(".", build.Str("context"));
            Assert.Equal("deploy/docker/Dockerfile", build.Str("dockerfile"));
            var project = Path.GetFileNameWithoutExtension(Assert.Single(Directory.GetFiles(app.Directory, "*.csproj")));
            Assert.Equal(new Dictionary<string, string> { ["SERVICE"] = app.Name, ["PROJECT"] = project }, BuildArgs(app));
        }
        // A mock's project is under deploy/ (SOURCE), one project for all its instances.
        foreach (var mock in AppService.Mocks)
        {
            var build = Compose.Service(mock.Name).Map("build");
            Assert.Equal(".", build.Str("context"));
            Assert.Equal("deploy/docker/Dockerfile", build.Str("dockerfile"));
            var folder = mock.Folder.Split('/');
            var project = Path.GetFileNameWithoutExtension(Assert.Single(Directory.GetFiles(mock.Directory, "*.csproj")));
            Assert.Equal(new Dictionary<string, string> { ["SOURCE"] = folder[0], ["SERVICE"] = folder[1], ["PROJECT"] = project }, BuildArgs(mock));
        }
    }

    private static string AssemblyName(string project) =>
        XDocument.Load(project).Descendants("AssemblyName").FirstOrDefault()?.Value ?? Path.GetFileNameWithoutExtension(project);

    /// <summary>The project and every project it references, transitively.</summary>
    private static IReadOnlySet<string> ProjectClosure(string project)
    {
        var seen = new HashSet<string>();
        var pending = new Stack<string>([Path.GetFullPath(project)]);
        while (pending.TryPop(out var current))
        {
            if (!seen.Add(current)) continue;
            foreach (var reference in XDocument.Load(current).Descendants("ProjectReference"))
                pending.Push(Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, reference.Attribute("Include")!.Value.Replace('\\', '/'))));
        }
        return seen;
    }
}
