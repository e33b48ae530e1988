namespace OrderStream.DeployTests;

public class ImageTests
{
    [Fact]
    public void Every_image_in_compose_kubernetes_and_the_dockerfiles_is_pinned()
    {
        var images = Compose.Services.Select(s => (Where: $"docker-compose.yml {s.Key}", Image: s.Value.Str("image")))
            .Concat(Kubernetes.Documents.SelectMany(d => ContainersOf(d.Doc).Select(c => (Where: d.File, Image: c.Str("image")))))
            .Concat(new Dockerfile(Dockerfile.SharedPath).BaseImages().Select(i => (Where: "deploy/docker/Dockerfile", Image: (string?)i)))
            .ToList();

        Assert.Contains(images, i => i.Where.EndsWith(".yaml", StringComparison.Ordinal));
        var missing = images.Where(i => i.Image is null).Select(i => i.Where).ToList();
        Assert.True(missing.Count == 0, "no image: " + string.Join(", ", missing));
        var unpinned = images.Where(i => !ImageRef.IsPinned(i.Image!)).Select(i => $"{i.Where}: {i.Image}").ToList();
        Assert.True(unpinned.Count == 0, "not pinned: " + string.Join("; ", unpinned));
    }

    [Theory]
    [InlineData("postgres:15.13", true)]
    [InlineData("localhost:5000/orderstream/inventory:0.1.0", true)]
    [InlineData("redis@sha256:aa049e689e141a4358ad1d4562dc49c88a89fbab711fd8fcc33f684c80b26301", true)]
    [InlineData("redis:latest", false)]
    [InlineData("redis", false)]
    [InlineData("localhost:5000/redis", false)]
    [InlineData("redis:${REDIS_TAG:-7.4}", false)]
    public void Image_is_pinned_by_a_fixed_tag_other_than_latest_or_a_digest(string image, bool pinned) =>
        Assert.Equal(pinned, ImageRef.IsPinned(image));

    private static IEnumerable<Dictionary<object, object>> ContainersOf(Dictionary<object, object> doc)
    {
        var pod = doc.Map("spec").Map("template").Map("spec") ?? doc.Map("spec").Map("jobTemplate").Map("spec").Map("template").Map("spec");
        return pod.Seq("containers").Concat(pod.Seq("initContainers")).Maps();
    }
}
