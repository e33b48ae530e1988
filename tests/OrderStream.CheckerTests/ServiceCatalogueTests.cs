using OrderStream.Checker;
using OrderStream.Contracts;

namespace OrderStream.CheckerTests;

/// <summary>The checker reads each saga service's books; the catalogue says which services there are.</summary>
public class ServiceCatalogueTests
{
    [Fact]
    public void The_checker_knows_the_books_of_every_saga_service_of_the_catalogue_and_of_no_other()
    {
        Assert.Equal(Catalogue.SagaServices.Select(s => s.Key).Order(), Enum.GetValues<Service>().Select(s => s.ToString().ToLowerInvariant()).Order());
        Assert.All(Enum.GetValues<Service>(), s => Assert.Equal(s, ServiceCatalogue.Of(s.Spec())));
    }

    [Fact]
    public void The_default_consumer_groups_are_the_consuming_services_with_their_topics()
    {
        Assert.Equal(
            Catalogue.All.Where(s => s.IsConsumer).Select(s => (s.Name, s.Consumes)),
            ConsumerGroup.Defaults.Select(g => (g.Name, g.Topics)));
        Assert.Equal(ConsumerGroups.Defaults.Keys, ConsumerGroup.Defaults.Select(g => g.Name));
    }

    [Fact]
    public void Options_from_one_connection_string_per_database_name_each_service_s_own()
    {
        var options = CheckOptions.ForDatabases(Catalogue.SagaServices.ToDictionary(s => s.Database!, s => "cs-" + s.Database));
        Assert.All(Enum.GetValues<Service>(), s => Assert.Equal("cs-" + s.Spec().Database, options.ConnectionString(s)));
        Assert.Throws<ArgumentException>(() => CheckOptions.ForDatabases(new Dictionary<string, string> { ["gateway"] = "x" }));
    }
}
