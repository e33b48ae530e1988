using System.Xml.Linq;
using OrderStream.TestSupport;

namespace OrderStream.DeployTests;

/// <summary>
/// Each services/*/Dockerfile, read as data (deploy/docker/check-builds.sh also runs its publish
/// command here). The build context is the repository root, and the build stage copies paths to
/// the same paths under its WORKDIR, so a path in the Dockerfile is a path in the repository.
/// </summary>
public class DockerfileTests
{
    private static Dockerfile For(AppService app) => new(Path.Combine(app.Directory, "Dockerfile"));

    [Theory]
    [MemberData(nameof(AppService.Theory), MemberType = typeof(AppService))]
    public void Build_stage_copies_paths_that_exist_to_the_same_place(AppService app)
    {
        var dockerfile = For(app);
        var copies = dockerfile.Copies(dockerfile.BuildStage).Where(c => c.From is null).ToList();
        Assert.NotEmpty(copies);
        foreach (var copy in copies)
        {
            foreach (var source in copy.Sources)
                Assert.True(File.Exists(Path.Combine(Repo.Root, source)) || Directory.Exists(Path.Combine(Repo.Root, source)),
                    $"{app.Name}/Dockerfile copies '{source}', which is not in the repository");
            var mirrored = copy.Destination is "./" or "." || copy.Sources.Count == 1 && copy.Sources[0] == copy.Destination;
            Assert.True(mirrored, $"{app.Name}/Dockerfile copies {string.Join(" ", copy.Sources)} to '{copy.Destination}': keep the repository's layout");
        }
    }

    [Theory]
    [MemberData(nameof(AppService.Theory), MemberType = typeof(AppService))]
    public void Publish_command_names_the_service_project_and_entrypoint_its_assembly(AppService app)
    {
        var dockerfile = For(app);
        var project = Path.Combine(Repo.Root, dockerfile.PublishedProject);
        Assert.True(File.Exists(project), $"{app.Name}/Dockerfile publishes '{dockerfile.PublishedProject}', which does not exist");
        Assert.Equal(Path.GetFullPath(app.Directory), Path.GetDirectoryName(Path.GetFullPath(project)));
        Assert.Equal(AssemblyName(project) + ".dll", dockerfile.EntrypointDll);
    }

    [Theory]
    [MemberData(nameof(AppService.Theory), MemberType = typeof(AppService))]
    public void Build_context_holds_every_project_the_service_references(AppService app)
    {
        var dockerfile = For(app);
        var copied = dockerfile.Copies(dockerfile.BuildStage).Where(c => c.From is null)
            .SelectMany(c => c.Sources).Select(s => Path.GetFullPath(Path.Combine(Repo.Root, s))).ToList();
        bool IsCopied(string path) => copied.Any(c => path == c || path.StartsWith(c.TrimEnd('/') + "/", StringComparison.Ordinal));

        foreach (var project in ProjectClosure(Path.Combine(Repo.Root, dockerfile.PublishedProject)))
            Assert.True(IsCopied(project), $"{app.Name} builds {Path.GetRelativePath(Repo.Root, project)}, which its Dockerfile does not copy");
        // MSBuild imports these from the root for every project: without them the image builds differently, or not at all.
        foreach (var file in Directory.GetFiles(Repo.Root, "Directory.*").Concat(new[] { "NuGet.config", "nuget.config", "global.json" }.Select(f => Path.Combine(Repo.Root, f))).Where(File.Exists))
            Assert.True(IsCopied(Path.GetFullPath(file)), $"{app.Name}/Dockerfile does not copy {Path.GetFileName(file)}");
    }

    [Fact]
    public void Every_service_directory_has_a_dockerfile_and_a_compose_build()
    {
        var withDockerfile = Directory.GetDirectories(Path.Combine(Repo.Root, "services"))
            .Where(d => File.Exists(Path.Combine(d, "Dockerfile"))).Select(Path.GetFileName).Order();
        Assert.Equal(AppService.All.Select(a => a.Name).Order(), withDockerfile);
        foreach (var app in AppService.All)
        {
            var build = Compose.Service(app.Name).Map("build");
            Assert.Equal(".", build.Str("context"));
            Assert.Equal($"services/{app.Name}/Dockerfile", build.Str("dockerfile"));
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
