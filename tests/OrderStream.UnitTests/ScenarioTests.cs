using OrderStream.Load;

namespace OrderStream.UnitTests;

public class ScenarioTests
{
    [Fact]
    public void Parses_k6_style_stages()
    {
        var scenario = Scenario.Parse(1, "500ms:10, 30s:100,2m:100,1.5s:0");
        Assert.Equal([new Stage(TimeSpan.FromMilliseconds(500), 10), new Stage(TimeSpan.FromSeconds(30), 100), new Stage(TimeSpan.FromMinutes(2), 100), new Stage(TimeSpan.FromSeconds(1.5), 0)], scenario.Stages);
        Assert.Equal(TimeSpan.FromSeconds(152), scenario.Duration);
        Assert.Throws<FormatException>(() => Scenario.Parse(0, "10s"));
        Assert.Throws<FormatException>(() => Scenario.Parse(0, "10h:5"));
    }

    [Fact]
    public void Arrivals_are_the_integral_of_a_linearly_ramping_rate()
    {
        var scenario = Scenario.Parse(0, "10s:100,10s:100,10s:0");
        Assert.Equal(500, scenario.ArrivalsBy(TimeSpan.FromSeconds(10)), 6);   // ramp 0 → 100: the area of a triangle
        Assert.Equal(125, scenario.ArrivalsBy(TimeSpan.FromSeconds(5)), 6);    // halfway up the ramp: a quarter of it
        Assert.Equal(1_500, scenario.ArrivalsBy(TimeSpan.FromSeconds(20)), 6); // plus 10 s held at 100/s
        Assert.Equal(2_000, scenario.ArrivalsBy(TimeSpan.FromSeconds(30)), 6);
        Assert.Equal(2_000, scenario.ArrivalsBy(TimeSpan.FromSeconds(99)), 6); // nothing after the last stage
    }

    [Fact]
    public void A_zero_length_stage_jumps_to_its_rate()
    {
        var scenario = Scenario.Parse(1, "0s:100,10s:100");
        Assert.Equal(500, scenario.ArrivalsBy(TimeSpan.FromSeconds(5)), 6);
        Assert.Equal(1_000, scenario.ArrivalsBy(TimeSpan.FromSeconds(10)), 6);
    }
}
