using OrderStream.MockVendor;

// A vendor's stock API as inventory's sync sees one (docs/architecture.md, "Stock from vendors"), with switches to
// make it misbehave. Not part of OrderStream: the local stack, the tests and compose run two (vendor-a, vendor-b).
//   GET  /stock               [{ "vendorSku": "A1001", "quantity": 100 }, ...]; what the chaos switches allow
//   PUT  /stock/{vendorSku}   { "quantity": n }: sets (or adds) an item; answers it
//   GET  /chaos, PUT|POST /chaos  { "down": bool, "delayMs": n, "errorRate": 0..1, "fluctuate": bool }; a field left
//                             out keeps its value; answers the switches as they are now
// "down" answers GET /stock with 503 while the process stays up, so its switches can turn it back on; a refused
// connection is what stopping the process gives. Only GET /stock obeys the switches. Initial stock:
// Vendor__Stock__<vendorSku>=<quantity>; Vendor__Name names it in its answers and logs. No credentials: it binds
// where it is told (127.0.0.1 on this machine, the compose network in Docker).
var builder = WebApplication.CreateBuilder(args);
builder.Services.AddProblemDetails();
builder.Services.AddSingleton(new MockStock(builder.Configuration.GetSection("Vendor:Stock").Get<Dictionary<string, long>>() ?? []));
builder.Services.AddSingleton<Chaos>();

var app = builder.Build();
var name = app.Configuration["Vendor:Name"] ?? "vendor";

app.MapGet("/healthz", () => Results.Ok(new { status = "up", name }));
// Ready as a process even while "down": down is what /stock pretends, not the state of the mock.
app.MapGet("/readyz", () => Results.Ok(new { status = "ready", name }));

app.MapGet("/stock", async (MockStock stock, Chaos chaos, HttpContext context) =>
{
    var switches = chaos.Current;
    if (switches.DelayMs > 0) await Task.Delay(switches.DelayMs, context.RequestAborted);
    if (switches.Down)
    {
        context.Response.Headers.RetryAfter = "5";
        return Results.Problem(statusCode: 503, title: $"{name} is down", detail: "The chaos switch 'down' is on.");
    }
    if (switches.ErrorRate > 0 && Random.Shared.NextDouble() < switches.ErrorRate)
        return Results.Problem(statusCode: 500, title: $"{name} failed", detail: $"The chaos switch 'errorRate' ({switches.ErrorRate}) chose this request.");
    if (switches.Fluctuate) stock.Fluctuate();
    return Results.Ok(stock.Items());
});

app.MapPut("/stock/{vendorSku}", (string vendorSku, StockRequest request, MockStock stock) =>
{
    if (vendorSku.Length is 0 or > 64) return Results.ValidationProblem(new Dictionary<string, string[]> { ["vendorSku"] = ["must be 1-64 characters"] });
    if (request.Quantity is not { } quantity || quantity is < 0 or > MockStock.MaxQuantity)
        return Results.ValidationProblem(new Dictionary<string, string[]> { ["quantity"] = [$"must be an integer from 0 to {MockStock.MaxQuantity}"] });
    return Results.Ok(stock.Set(vendorSku, quantity));
});

app.MapGet("/chaos", (Chaos chaos) => Results.Ok(chaos.Current));
app.MapMethods("/chaos", ["PUT", "POST"], (ChaosRequest request, Chaos chaos, ILogger<Chaos> logger) =>
{
    var errors = new Dictionary<string, string[]>();
    if (request.DelayMs is < 0 or > Chaos.MaxDelayMs) errors["delayMs"] = [$"must be 0-{Chaos.MaxDelayMs}"];
    if (request.ErrorRate is < 0 or > 1 || request.ErrorRate is double.NaN) errors["errorRate"] = ["must be from 0 to 1"];
    if (errors.Count > 0) return Results.ValidationProblem(errors);
    var now = chaos.Set(request);
    logger.LogWarning("{Vendor}: chaos switches now {Switches}", name, now);
    return Results.Ok(now);
});

app.Run();
