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
builder.Services.AddScoped<TransactionPayments>();

builder.Services.AddEventConsumer()
    .Subscribe<InventoryReservedV1, AuthorizePayment>()
    .Subscribe<InventoryReleasedV1, CompensatePayment>()
    .Subscribe<InventoryReturnedV1, CompensatePayment>();

var app = builder.Build();
await app.UseServiceDefaultsAsync(typeof(Program).Assembly);
app.MapAdmin("payment").MapPaymentAdmin();
app.Run();

public partial class Program;
