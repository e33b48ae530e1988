using OrderStream.Contracts;
using OrderStream.Hosting;
using OrderStream.Hosting.Admin;
using OrderStream.Inventory.Domain;
using OrderStream.Inventory.Handlers;
using OrderStream.Inventory.Http;
using OrderStream.Messaging;

var builder = ServiceDefaults.CreateBuilder(args, "inventory");
builder.Services.AddHealthChecks().AddKafkaReadiness();
builder.Services.AddOptions<SagaOptions>().BindConfiguration(SagaOptions.Section).ValidateDataAnnotations().ValidateOnStart();

// One StockBook per consumer transaction: loaded once, the handlers of a batch decide on it in memory, written back once.
builder.Services.AddEventConsumer()
    .WithBatch<StockBook, StockBatch>()
    .Subscribe<OrderCreatedV1, ReserveStock>()
    .Subscribe<PaymentAuthorizedV1, CommitSale>()
    .Subscribe<PaymentFailedV1, ReleaseStock>()
    .Subscribe<OrderCancelRequestedV1, CancelOrder>();
builder.Services.AddHostedService<ExpireReservations>();
// Stock of vendor-fed SKUs from the vendors' HTTP APIs, on its own schedule, never inside the consumer's transactions.
builder.Services.AddVendorSync(builder.Configuration);

var app = builder.Build();
await app.UseServiceDefaultsAsync(typeof(Program).Assembly);
app.MapInventoryEndpoints();
app.MapProductEndpoints();
app.MapAdmin("inventory").MapInventoryAdmin();
app.Run();

public partial class Program;
