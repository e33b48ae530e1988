using System.Net;
using System.Net.Http.Json;
using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.TestSupport;

namespace OrderStream.CheckerTests;

/// <summary>
/// The whole system with 30% of payments declined, after a run of concurrent orders (each with an
/// idempotency key) on a few SKUs with less stock than demand, so every outcome occurs: confirmed,
/// out of stock, declined and compensated. Ready when every order settled and the system is quiet.
/// </summary>
public class CheckedRun : OrderStreamStack, IAsyncLifetime
{
    public static readonly string[] Skus = ["C-1", "C-2", "C-3", "C-4", "C-5"];
    public const int StockPerSku = 40;

    protected virtual int OrderCount => 200;

    public OrderStreamChecker Checker { get; private set; } = null!;

    /// <summary>Each order's view as the gateway answered it once settled.</summary>
    public IReadOnlyList<OrderView> Views { get; private set; } = [];

    protected override IReadOnlyDictionary<string, string> ExtraSettings(string service) =>
        service == "payment" ? new Dictionary<string, string> { ["Payment__DeclineRate"] = "0.3" } : new Dictionary<string, string>();

    // Re-implements IAsyncLifetime: the base class starts the stack, this runs the workload on it.
    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Checker = new OrderStreamChecker(CheckOptions);
        foreach (var sku in Skus) await SeedAsync(sku, StockPerSku);

        // 1-2 lines of 1-3 units: demand is several times the stock, so many orders run out.
        var random = new Random(11);
        var bodies = Enumerable.Range(0, OrderCount).Select(i => (Key: $"key-{i}", Body: new
        {
            userId = $"user-{i % 20}",
            currency = "EUR",
            items = Enumerable.Range(0, random.Next(1, 3)).Select(_ => new { sku = Skus[random.Next(Skus.Length)], qty = random.Next(1, 4), price = 3.00m }).ToList(),
        })).ToList();
        var ids = await Concurrently.ForAllAsync(bodies, 16, b => PlaceAsync(b.Key, b.Body));
        Views = await Concurrently.ForAllAsync(ids, 16, id => WaitSettledAsync(id, TimeSpan.FromSeconds(90)));
        await Checker.WaitUntilQuietAsync(TimeSpan.FromSeconds(90));
    }

    private async Task<Guid> PlaceAsync(string idempotencyKey, object body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/orders") { Content = JsonContent.Create(body) };
        request.Headers.Add("Idempotency-Key", idempotencyKey);
        var response = await Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Accepted>())!.OrderId;
    }

    private sealed record Accepted(Guid OrderId, string Status);

}
