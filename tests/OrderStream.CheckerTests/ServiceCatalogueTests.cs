using OrderStream.Checker;
using OrderStream.Contracts;

namespace OrderStream.CheckerTests;

/// <summary>The checker reads each saga service's books; the catalogue says which services there are.</summary>
public class ServiceCatalogueTests
{
    [Fact]
    public void The_checker_reads_every_saga_service_of_the_catalogue_and_no_other_the_gateway_first()
    {
        Assert.Equal(Catalogue.SagaServices.Select(s => s.Key).Order(), CheckedServices.All.Select(s => s.Key).Order());
        // The order the report has always listed the outboxes in; a service added later comes after these.
        Assert.Equal(["gateway", "inventory", "payment", "materializer"], CheckedServices.All.Select(s => s.Key).Take(4));
    }

    [Fact]
    public void The_decision_topics_derived_from_what_each_service_produces_are_the_ones_counted_per_order()
    {
        // The lists the checker held by hand before they were derived: inventory.adjusted (keyed by SKU)
        // and order.updated (the view's own notice) are not counted. A service added later brings its own.
        var expected = new Dictionary<string, string[]>
        {
            ["gateway"] = [Topics.OrderCreated, Topics.OrderCancelRequested, Topics.OrderShipRequested],
            ["inventory"] = [Topics.InventoryReserved, Topics.InventoryFailed, Topics.InventoryReleased, Topics.InventorySold, Topics.InventoryReturned],
            ["payment"] = [Topics.PaymentAuthorized, Topics.PaymentFailed, Topics.PaymentVoided, Topics.PaymentRefunded],
            ["materializer"] = [],
            ["fulfilment"] = [Topics.ShipmentDispatched],
        };
        Assert.Equal(expected, expected.Keys.ToDictionary(key => key, key => CheckedServices.DecisionTopics(Catalogue.ByKey(key))));
    }

    [Fact]
    public void The_default_consumer_groups_are_the_consuming_services_with_their_topics()
    {
        Assert.Equal(
            Catalogue.All.Where(s => s.IsConsumer).Select(s => (s.Name, s.Consumes)),
            ConsumerGroup.Defaults.Select(g => (g.Name, g.Topics)));
        Assert.Equal(ConsumerGroups.Defaults.Keys, ConsumerGroup.Defaults.Select(g => g.Name));
        Assert.All(ConsumerGroup.Defaults, g => Assert.Equal(g.Name, g.Service.Name));
    }

    [Fact]
    public void Options_from_one_connection_string_per_database_name_each_service_s_own()
    {
        var options = new CheckOptions(Catalogue.SagaServices.ToDictionary(s => s.Database!, s => "cs-" + s.Database));
        Assert.All(CheckedServices.All, s => Assert.Equal("cs-" + s.Database, options.ConnectionString(s)));
        Assert.Throws<ArgumentException>(() => new CheckOptions(new Dictionary<string, string> { ["gateway"] = "x" }));
        Assert.Throws<ArgumentException>(() => options.ConnectionString(Catalogue.Dashboard));
    }
}
