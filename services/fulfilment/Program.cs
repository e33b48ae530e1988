using OrderStream.Contracts;
using OrderStream.Fulfilment.Domain;
using OrderStream.Fulfilment.Handlers;
using OrderStream.Hosting;
using OrderStream.Hosting.Admin;
using OrderStream.Messaging;

var builder = ServiceDefaults.CreateBuilder(args, "fulfilment");
builder.Services.AddHealthChecks().AddKafkaReadiness();

// One ShipmentBook per consumer transaction: the orders locked and loaded once, decided on in memory, written back once.
// The sale and the ship request may come in either order; the dispatch waits for both.
builder.Services.AddEventConsumer()
    .WithBatch<ShipmentBook, ShipmentBatch>()
    .Subscribe<InventorySoldV1, FulfilOrder>()
    .Subscribe<OrderShipRequestedV1, FulfilOrder>()
    .Subscribe<InventoryReturnedV1, FulfilOrder>();

var app = builder.Build();
await app.UseServiceDefaultsAsync(typeof(Program).Assembly);
app.MapAdmin("fulfilment");
app.Run();

public partial class Program;
