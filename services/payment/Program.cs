using OrderStream.Contracts;
using OrderStream.Hosting;
using OrderStream.Hosting.Admin;
using OrderStream.Messaging;
using OrderStream.Payment.Domain;
using OrderStream.Payment.Handlers;
using OrderStream.Payment.Http;

var builder = ServiceDefaults.CreateBuilder(args, "payment");
builder.Services.AddHealthChecks().AddKafkaReadiness();
builder.Services.AddOptions<PaymentOptions>().BindConfiguration(PaymentOptions.Section).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<PaymentSettings>();

// One PaymentBook per consumer transaction: loaded once, the handlers of a batch decide on it in memory, written back once.
builder.Services.AddEventConsumer()
    .WithBatch<PaymentBook, PaymentBatch>()
    .Subscribe<InventoryReservedV2, AuthorizePayment>()
    // The retiring version, until no message of it is left (docs/envelope.md, "Versioning").
    .Subscribe<InventoryReservedV1, AuthorizePayment>()
    .Subscribe<InventoryReleasedV1, CompensatePayment>()
    .Subscribe<InventoryReturnedV1, CompensatePayment>();

var app = builder.Build();
await app.UseServiceDefaultsAsync(typeof(Program).Assembly);
app.MapAdmin("payment").MapPaymentAdmin();
app.Run();

public partial class Program;
