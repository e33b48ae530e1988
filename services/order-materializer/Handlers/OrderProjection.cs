using System.Diagnostics.Metrics;
using OrderStream.Contracts;
using OrderStream.Hosting.Caching;
using OrderStream.Messaging;
using OrderStream.OrderMaterializer.Data;
using OrderStream.OrderMaterializer.Domain;

namespace OrderStream.OrderMaterializer.Handlers;

/// <summary>
/// Folds every saga event into the order view: record the fact, derive the status, emit
/// order.updated when it changes, and refresh the Redis entry after the commit.
/// </summary>
public sealed class OrderProjection(OrderViewCache cache) :
    IEventHandler<OrderCreatedV1>,
    IEventHandler<InventoryReservedV1>,
    IEventHandler<InventoryFailedV1>,
    IEventHandler<InventoryReleasedV1>,
    IEventHandler<PaymentAuthorizedV1>,
    IEventHandler<PaymentFailedV1>,
    IEventHandler<OrderCancelRequestedV1>,
    IEventHandler<InventorySoldV1>,
    IEventHandler<InventoryReturnedV1>,
    IEventHandler<PaymentVoidedV1>,
    IEventHandler<PaymentRefundedV1>
{
    private static readonly Meter Meter = new("OrderStream.OrderMaterializer");
    private static readonly Counter<long> Settled = Meter.CreateCounter<long>("orderstream.orders.settled", "{order}", "Orders that reached a final status, by status and reason");
    private static readonly Histogram<double> SagaDuration = Meter.CreateHistogram<double>("orderstream.saga.duration", "s", "From order accepted to order settled");

    public Task HandleAsync(OrderCreatedV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { Created = true }, context, ct, created: evt);

    public Task HandleAsync(InventoryReservedV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { Reserved = true }, context, ct);

    public Task HandleAsync(InventoryFailedV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { InventoryFailure = evt.Reason }, context, ct);

    public Task HandleAsync(InventoryReleasedV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { Released = true, ReleaseReason = evt.Reason }, context, ct);

    public Task HandleAsync(PaymentAuthorizedV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { PaymentAuthorized = true }, context, ct);

    public Task HandleAsync(PaymentFailedV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { PaymentFailure = evt.Reason }, context, ct);

    public Task HandleAsync(OrderCancelRequestedV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { CancelRequested = true, CancelReason = evt.Reason }, context, ct);

    public Task HandleAsync(InventorySoldV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { Sold = true }, context, ct);

    public Task HandleAsync(InventoryReturnedV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { Returned = true }, context, ct);

    public Task HandleAsync(PaymentVoidedV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { Voided = true }, context, ct);

    public Task HandleAsync(PaymentRefundedV1 evt, EventContext context, CancellationToken ct) =>
        ApplyAsync(evt.OrderId, f => f with { Refunded = true }, context, ct);

    private async Task ApplyAsync(Guid orderId, Func<OrderFacts, OrderFacts> addFact, EventContext context, CancellationToken ct, OrderCreatedV1? created = null)
    {
        var current = await OrderViewStore.LockAsync(context.Transaction, orderId, ct);
        var facts = addFact(current.Facts);
        var (status, reason) = OrderState.Next(current.Status, current.Reason, facts);
        var view = await OrderViewStore.SaveAsync(context.Transaction, orderId, status, reason, facts, context.Envelope, created, ct);

        if (status != current.Status)
            context.Publish(new OrderUpdatedV1(orderId, status, reason, DateTimeOffset.UtcNow));

        context.AfterCommit(_ => cache.SetAsync(view));
        if (status != current.Status && OrderStatus.IsTerminal(status))
            context.AfterCommit(_ =>
            {
                KeyValuePair<string, object?>[] tags = [new("status", status), new("reason", reason)];
                Settled.Add(1, tags);
                if (current.Status == OrderStatus.Pending && view.CreatedAt is { } created) SagaDuration.Record((view.SettledAt!.Value - created).TotalSeconds, tags);
                return Task.CompletedTask;
            });
    }
}
