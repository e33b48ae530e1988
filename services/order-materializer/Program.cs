using OrderStream.Contracts;
using OrderStream.Hosting;
using OrderStream.Hosting.Admin;
using OrderStream.Hosting.Caching;
using OrderStream.Messaging;
using OrderStream.OrderMaterializer.Handlers;
using OrderStream.OrderMaterializer.Http;

var builder = ServiceDefaults.CreateBuilder(args, "order-materializer");
builder.Services.AddHealthChecks().AddKafkaReadiness();
builder.Services.AddOrderViewCache(builder.Configuration);
builder.Services.AddOptions<FulfilmentOptions>().BindConfiguration(FulfilmentOptions.Section).ValidateDataAnnotations().ValidateOnStart();

// The views of a consumer transaction's orders, loaded once, folded in memory by every event, written back once.
builder.Services.AddEventConsumer()
    .WithBatch<ProjectedOrders, OrderProjection>()
    .Subscribe<OrderCreatedV1, OrderProjection>()
    .Subscribe<InventoryReservedV2, OrderProjection>()
    // The retiring version, until no message of it is left (docs/envelope.md, "Versioning").
    .Subscribe<InventoryReservedV1, OrderProjection>()
    .Subscribe<InventoryFailedV1, OrderProjection>()
    .Subscribe<InventoryReleasedV1, OrderProjection>()
    .Subscribe<PaymentAuthorizedV1, OrderProjection>()
    .Subscribe<PaymentFailedV1, OrderProjection>()
    .Subscribe<OrderCancelRequestedV1, OrderProjection>()
    .Subscribe<InventorySoldV1, OrderProjection>()
    .Subscribe<InventoryReturnedV1, OrderProjection>()
    .Subscribe<PaymentVoidedV1, OrderProjection>()
    .Subscribe<PaymentRefundedV1, OrderProjection>()
    .Subscribe<OrderShipRequestedV1, OrderProjection>()
    .Subscribe<ShipmentDispatchedV1, OrderProjection>();

var app = builder.Build();
await app.UseServiceDefaultsAsync(typeof(Program).Assembly);
app.MapOrderViewEndpoints();
app.MapAdmin("materializer");
app.Run();

public partial class Program;
