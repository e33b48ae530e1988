using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrderStream.ApiGateway.Http;
using OrderStream.Hosting;
using OrderStream.Hosting.Caching;
using OrderStream.Messaging;

var builder = ServiceDefaults.CreateBuilder(args, "api-gateway");
builder.Services.AddHealthChecks().AddKafkaReadiness(HealthStatus.Degraded);
builder.Services.AddOrderViewCache(builder.Configuration);
builder.Services.AddOutbox();

builder.Services.AddHttpClient<MaterializerClient>(c => c.BaseAddress = new Uri(builder.Configuration["Services:Materializer"]!));
builder.Services.AddHttpClient<InventoryClient>(c => c.BaseAddress = new Uri(builder.Configuration["Services:Inventory"]!));

var app = builder.Build();
await app.UseServiceDefaultsAsync(typeof(Program).Assembly);
app.MapOrderEndpoints();
app.MapInventoryEndpoints();
app.Run();

public partial class Program;
