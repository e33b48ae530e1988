using System.Text.RegularExpressions;
using System.Xml.Linq;
using OrderStream.Contracts;
using OrderStream.Stack;
using OrderStream.TestSupport;

namespace OrderStream.DeployTests;

/// <summary>
/// shared/OrderStream.Contracts/Catalogue.cs against the files it describes: each service's folder,
/// project and Program.cs. (What each consumer subscribes to at run time: SystemTests' CatalogueDriftTests.)
/// </summary>
public class CatalogueTests
{
    public static TheoryData<string> Names => new(Catalogue.All.Select(s => s.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public void Each_service_is_the_project_its_folder_holds_and_names_itself_as_the_catalogue_does(string name)
    {
        var spec = Catalogue.ByName(name);
        var project = Path.Combine(Repo.Root, spec.Folder, spec.Project + ".csproj");
        Assert.True(File.Exists(project), $"{project} is missing");
        var program = File.ReadAllText(Path.Combine(Repo.Root, spec.Folder, "Program.cs"));
        if (spec.Kind == ServiceKind.Saga)
            Assert.Matches($"""ServiceDefaults\.CreateBuilder\(args, "{Regex.Escape(spec.Name)}"\)""", program);
        // A consumer's group is its name; a service that consumes nothing must not start a consumer.
        Assert.Equal(spec.IsConsumer, program.Contains("AddEventConsumer()", StringComparison.Ordinal));
    }

    [Fact]
    public void Names_keys_and_ports_are_unique_and_a_service_starts_after_the_ones_it_calls()
    {
        Assert.Equal(Catalogue.All.Count, Catalogue.All.Select(s => s.Name).Distinct().Count());
        Assert.Equal(Catalogue.All.Count, Catalogue.All.Select(s => s.Key).Distinct().Count());
        Assert.Equal(Catalogue.All.Count, Catalogue.All.Select(s => s.Port).Distinct().Count());
        for (var i = 0; i < Catalogue.All.Count; i++)
            foreach (var callee in Catalogue.All[i].Calls)
                Assert.Contains(callee, Catalogue.All.Take(i).Select(s => s.Key));
    }

    [Fact]
    public void The_gateway_calls_every_other_saga_service_because_it_passes_their_admin_endpoints_through()
    {
        // The gateway proxies /admin/{key} and asks each service's status for GET /admin/system, so each
        // needs its address (compose and Kubernetes give it one per call: CatalogueFileTests).
        foreach (var service in Catalogue.SagaServices.Where(s => s != Catalogue.ApiGateway))
            Assert.True(Catalogue.ApiGateway.Calls.Contains(service.Key),
                $"Catalogue.ApiGateway.Calls lacks \"{service.Key}\": the gateway passes its admin endpoints through");
    }

    [Fact]
    public void Every_topic_a_service_consumes_or_produces_is_a_saga_topic_and_every_consumed_topic_has_a_producer()
    {
        var produced = Catalogue.All.SelectMany(s => s.Produces).ToHashSet();
        foreach (var spec in Catalogue.All)
            Assert.All(spec.Consumes.Concat(spec.Produces), t => Assert.Contains(t, Topics.All));
        // A retiring version is still read (events written before its successor) but no longer written.
        Assert.All(Catalogue.All.SelectMany(s => s.Consumes).Except(Topics.Retiring), t => Assert.Contains(t, produced));
        Assert.All(Topics.Retiring, t => Assert.DoesNotContain(t, produced));
    }

    [Fact]
    public void The_test_harness_builds_every_service_it_starts()
    {
        // The harness starts each saga service from its build output, so its project must build them first.
        var folder = Path.Combine(Repo.Root, "tests", "OrderStream.TestSupport");
        var harness = XDocument.Load(Path.Combine(folder, "OrderStream.TestSupport.csproj"));
        // An include may be a wildcard (services/*/*.csproj), as MSBuild expands it.
        var references = harness.Descendants("ProjectReference")
            .Select(r => r.Attribute("Include")!.Value)
            .SelectMany(include => include.Contains('*')
                ? Directory.GetFiles(Path.GetFullPath(Path.Combine(folder, Path.GetDirectoryName(include)!.Replace("*", ""))), Path.GetFileName(include), SearchOption.AllDirectories)
                : [include])
            .Select(Path.GetFileNameWithoutExtension)
            .ToHashSet();
        Assert.All(Catalogue.SagaServices.Concat(Catalogue.Mocks), s => Assert.Contains(s.Project, references));
    }

    [Fact]
    public void A_mock_is_built_from_deploy_and_called_only_by_saga_services()
    {
        Assert.NotEmpty(Catalogue.Mocks);
        Assert.All(Catalogue.Mocks, m => Assert.StartsWith("deploy/", m.Folder, StringComparison.Ordinal));
        Assert.All(Catalogue.Mocks, m => Assert.Null(m.Database));
        // A frontend is a client of the gateway only.
        Assert.All(Catalogue.All.Where(s => s.Kind == ServiceKind.Frontend), f => Assert.DoesNotContain(f.Calls, c => Catalogue.ByKey(c).Kind == ServiceKind.Mock));
    }
}

/// <summary>The plan deploy/local/run.sh runs and the test harness starts: what each process is given.</summary>
public class StackPlanTests
{
    private static readonly StackEndpoints Endpoints = new()
    {
        Root = "/repo",
        KafkaBootstrap = "127.0.0.1:9092",
        RedisConfiguration = "127.0.0.1:6379",
        ConnectionStrings = Catalogue.SagaServices.ToDictionary(s => s.Database!, s => $"Database={s.Database}"),
        Ports = Catalogue.All.ToDictionary(s => s.Key, s => s.Port),
        SigningKeyFile = "/state/identity/signing-key.pub.pem",
        FrontendSigningKeyFile = "/state/identity/signing-key.pem",
    };

    private static IReadOnlyDictionary<string, string> Env(ServiceSpec spec) => StackPlan.For(Endpoints).Single(l => l.Spec == spec).Environment;

    [Fact]
    public void Every_process_in_start_order_from_its_build_output()
    {
        var plan = StackPlan.For(Endpoints);
        Assert.Equal(Catalogue.All.Select(s => s.Name), plan.Select(l => l.Name));
        Assert.Equal("/repo/services/order-materializer/bin/Release/net10.0/OrderStream.OrderMaterializer.dll",
            plan.Single(l => l.Spec == Catalogue.OrderMaterializer).Dll);
        Assert.All(plan, l => Assert.Equal(l.Name, l.Environment["OTEL_SERVICE_NAME"]));
    }

    [Fact]
    public void A_saga_service_gets_its_database_Kafka_the_token_public_key_and_the_addresses_of_what_it_calls()
    {
        var gateway = Env(Catalogue.ApiGateway);
        Assert.Equal("Database=gateway", gateway["ConnectionStrings__Db"]);
        Assert.Equal("127.0.0.1:9092", gateway["Kafka__BootstrapServers"]);
        Assert.Equal("/state/identity/signing-key.pub.pem", gateway["Auth__SigningKeyFile"]);
        Assert.Equal(("orderstream-local", "orderstream"), (gateway["Auth__Issuer"], gateway["Auth__Audience"]));
        // The shared operator key is gone: /admin needs an admin's token, and no service holds the private key.
        Assert.All(Catalogue.SagaServices, s => Assert.False(Env(s).ContainsKey("Admin__ApiKey")));
        Assert.All(Catalogue.SagaServices, s => Assert.DoesNotContain("/state/identity/signing-key.pem", Env(s).Values));
        Assert.Equal("127.0.0.1:6379", gateway["Redis__Configuration"]);
        Assert.Equal("http://127.0.0.1:5081", gateway["Services__Inventory"]);
        Assert.Equal("http://127.0.0.1:5082", gateway["Services__Payment"]);
        Assert.Equal("http://127.0.0.1:5083", gateway["Services__Materializer"]);
        Assert.False(Env(Catalogue.Inventory).ContainsKey("Redis__Configuration"));
        Assert.DoesNotContain(Env(Catalogue.Payment).Keys, k => k.StartsWith("Services__", StringComparison.Ordinal));
    }

    [Fact]
    public void Inventory_syncs_the_mock_vendors_that_run_beside_it_and_each_mock_serves_the_stock_inventory_maps()
    {
        var inventory = Env(Catalogue.Inventory);
        Assert.Equal("vendor-a", inventory["Vendors__List__0__Name"]);
        Assert.Equal("http://127.0.0.1:5086", inventory["Vendors__List__0__BaseUrl"]);
        Assert.Equal("VND-A-001", inventory["Vendors__List__0__Skus__A1001"]);
        Assert.Equal("vendor-b", inventory["Vendors__List__1__Name"]);
        Assert.Equal("http://127.0.0.1:5087", inventory["Vendors__List__1__BaseUrl"]);
        Assert.Equal("VND-B-003", inventory["Vendors__List__1__Skus__B1003"]);
        Assert.DoesNotContain(inventory.Keys, k => k.StartsWith("Services__Vendor", StringComparison.Ordinal));
        // The demo SKUs the tests and the benchmark stock by the thousand are never fed by a vendor.
        Assert.DoesNotContain(inventory, e => e.Key.Contains("__Skus__", StringComparison.Ordinal) && e.Value.StartsWith("SKU-", StringComparison.Ordinal));

        var vendorA = Env(Catalogue.VendorA);
        Assert.Equal("vendor-a", vendorA["Vendor__Name"]);
        Assert.Equal(inventory.Where(e => e.Key.StartsWith("Vendors__List__0__Skus__", StringComparison.Ordinal)).Select(e => e.Key.Split("__")[^1]).Order(),
            vendorA.Where(e => e.Key.StartsWith("Vendor__Stock__", StringComparison.Ordinal)).Select(e => e.Key.Split("__")[^1]).Order());
        Assert.False(vendorA.ContainsKey("ConnectionStrings__Db"));
        Assert.Equal("/repo/deploy/OrderStream.MockVendor/bin/Release/net10.0/OrderStream.MockVendor.dll", StackPlan.For(Endpoints).Single(l => l.Spec == Catalogue.VendorB).Dll);

        // A plan without the vendors (most test stacks) gives inventory none: it syncs nothing.
        var alone = StackPlan.For(Endpoints, Catalogue.SagaServices).Single(l => l.Spec == Catalogue.Inventory).Environment;
        Assert.DoesNotContain(alone.Keys, k => k.StartsWith("Vendors__", StringComparison.Ordinal));
    }

    [Fact]
    public void The_dashboard_gets_the_gateway_the_services_token_rules_the_load_tests_key_and_what_the_books_check_reads_but_no_database_of_its_own()
    {
        var dashboard = Env(Catalogue.Dashboard);
        Assert.Equal("http://127.0.0.1:5080", dashboard["Gateway__BaseUrl"]);
        // People sign in with tokens validated exactly as the services validate them.
        var gateway = Env(Catalogue.ApiGateway);
        foreach (var setting in new[] { "Auth__SigningKeyFile", "Auth__Issuer", "Auth__Audience" }) Assert.Equal(gateway[setting], dashboard[setting]);
        Assert.False(dashboard.ContainsKey("Gateway__AdminKey"));
        Assert.Equal("/state/identity/signing-key.pem", dashboard["Gateway__SigningKeyFile"]);
        Assert.Equal("127.0.0.1:9092", dashboard["Checker__Kafka"]);
        foreach (var saga in Catalogue.SagaServices) Assert.Equal($"Database={saga.Database}", dashboard["Checker__" + saga.Section]);
        Assert.False(dashboard.ContainsKey("ConnectionStrings__Db"));
        Assert.False(dashboard.ContainsKey("Admin__ApiKey"));
    }

    [Fact]
    public void Extra_settings_are_added_and_override_the_plan()
    {
        var plan = StackPlan.For(Endpoints with
        {
            ExtraSettings = s => s == Catalogue.Payment ? [new("Payment__DeclineRate", "0.2"), new("Auth__Audience", "other")] : [],
        });
        var payment = plan.Single(l => l.Spec == Catalogue.Payment).Environment;
        Assert.Equal("0.2", payment["Payment__DeclineRate"]);
        Assert.Equal("other", payment["Auth__Audience"]);
        Assert.Equal("orderstream", plan.Single(l => l.Spec == Catalogue.Inventory).Environment["Auth__Audience"]);
    }
}
