using Microsoft.Extensions.Diagnostics.HealthChecks;
using OrderStream.ApiGateway.Data;
using OrderStream.ApiGateway.Http;
using OrderStream.Hosting;
using OrderStream.Hosting.Admin;
using OrderStream.Hosting.Caching;
using OrderStream.Messaging;
using OrderStream.Messaging.DeadLetters;

var builder = ServiceDefaults.CreateBuilder(args, "api-gateway");
builder.Services.AddHealthChecks().AddKafkaReadiness(HealthStatus.Degraded);
builder.Services.AddOrderViewCache(builder.Configuration);
builder.Services.AddSingleton<SettledOrders>();
builder.Services.AddOutbox();
builder.Services.AddOrderWriter();
builder.Services.AddOrderRateLimiting();
builder.Services.AddSingleton<ReadOnlyMode>();
builder.Services.AddDeadLetterAdmin();

CallerToken.Forward(builder.Services.AddHttpClient<MaterializerClient>(c => c.BaseAddress = new Uri(builder.Configuration["Services:Materializer"]!)))
    .AddServiceCallResilience(builder.Configuration);
CallerToken.Forward(builder.Services.AddHttpClient<InventoryClient>(c => c.BaseAddress = new Uri(builder.Configuration["Services:Inventory"]!)))
    .AddServiceCallResilience(builder.Configuration);
AdminProxy.AddClients(builder.Services, builder.Configuration);
SystemEndpoints.AddClients(builder.Services, builder.Configuration);

var app = builder.Build();
await app.UseServiceDefaultsAsync(typeof(Program).Assembly);
app.UseRateLimiter();
app.MapOrderEndpoints();
app.MapInventoryEndpoints();
app.MapProductEndpoints();
app.MapGatewayAdmin();
app.MapDeadLetters();
app.MapSystemStatus();
// Connect to Redis now, not in the first request: its client connects synchronously, and created inside
// a burst of requests (a restart under load) it held them all on the container's lock while it needed
// a pool thread itself, and the gateway stopped answering. Redis being down only delays this by its timeout.
app.Services.GetRequiredService<OrderViewCache>();
app.Services.GetRequiredService<SettledOrders>(); // listening before the first poll waits on it
app.Run();

public partial class Program;
