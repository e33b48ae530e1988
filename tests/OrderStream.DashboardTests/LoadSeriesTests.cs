using OrderStream.Dashboard.Components.Shared;
using OrderStream.Dashboard.Load;
using OrderStream.Load;

namespace OrderStream.DashboardTests;

public sealed class LoadSeriesTests : DashboardTestContext
{
    private static LoadSnapshot At(double seconds, long scheduled, long accepted, long settled, double[]? post = null, double[]? settle = null) =>
        new(TimeSpan.FromSeconds(seconds), scheduled, scheduled, accepted, settled, 0, 0, 0, 0, post ?? [], settle ?? []);

    [Fact]
    public void Rates_are_the_counters_change_over_the_time_between_snapshots()
    {
        var series = new LoadSeries();
        series.Add(At(1, 10, 10, 0));
        series.Add(At(2, 30, 28, 12));
        // A late sample (1.5 s after the previous one) must not read as a spike.
        var point = series.Add(At(3.5, 60, 58, 42))!;

        Assert.Equal([10d, 20d, 20d], series.Points.Select(p => p.Offered));
        Assert.Equal([10d, 18d, 20d], series.Points.Select(p => p.Accepted));
        Assert.Equal([0d, 12d, 20d], series.Points.Select(p => p.Settled));
        Assert.Equal(3.5, point.Second);
    }

    [Fact]
    public void Percentiles_are_those_of_the_latencies_in_the_snapshot()
    {
        var series = new LoadSeries();
        var post = Enumerable.Range(1, 100).Select(i => (double)i).ToArray();
        var point = series.Add(At(1, 100, 100, 50, post, [200, 400, 600, 800]))!;

        Assert.Equal(95, point.PostP95);
        Assert.Equal(99, point.PostP99);
        Assert.Equal(800, point.SettleP95);
    }

    [Fact]
    public void A_snapshot_no_later_than_the_previous_adds_no_point()
    {
        var series = new LoadSeries();
        series.Add(At(1, 5, 5, 5));
        Assert.Null(series.Add(At(1, 5, 5, 5)));
        Assert.Single(series.Points);
    }

    [Fact]
    public void The_charts_draw_one_point_per_second()
    {
        var series = new LoadSeries();
        for (var s = 1; s <= 5; s++) series.Add(At(s, s * 10, s * 10, s * 8, [s], [s * 100]));

        var cut = Ctx.Render<LoadCharts>(p => p.Add(c => c.Points, series.Points));

        Assert.Equal("5", cut.Find("[data-testid=chart-rates]").GetAttribute("data-points"));
        Assert.Equal("5", cut.Find("[data-testid=chart-latency]").GetAttribute("data-points"));
        Assert.NotEmpty(cut.FindAll("[data-testid=chart-rates] svg path"));
        Assert.Contains("offered", cut.Find("[data-testid=chart-rates]").TextContent);
        Assert.Contains("settle p95", cut.Find("[data-testid=chart-latency]").TextContent);
    }

    [Fact]
    public void The_load_runner_snapshot_counts_what_it_scheduled_before_any_order_is_answered()
    {
        // The live view reads the runner's snapshot while it runs: before the run, everything is zero.
        var runner = new LoadRunner(new LoadOptions(new Uri("http://127.0.0.1:1"), Scenario.Parse(1, "1s:1")), new HttpClient());
        var snapshot = runner.Snapshot();
        Assert.Equal((0L, 0L, 0L), (snapshot.Scheduled, snapshot.Accepted, snapshot.Settled));
        Assert.Empty(snapshot.RecentPostMs);
    }
}
