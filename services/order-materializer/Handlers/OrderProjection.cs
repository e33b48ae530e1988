using System.Diagnostics.Metrics;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.Hosting.Caching;
using OrderStream.Messaging;
using OrderStream.OrderMaterializer.Data;
using OrderStream.OrderMaterializer.Domain;

namespace OrderStream.OrderMaterializer.Handlers;

/// <summary>
/// Folds every saga event into the order view: load (and lock) the views of every order in the
/// consumer transaction in one round trip; per event, record the fact, derive the status and emit
/// order.updated when it changes; write all views back in one round trip before the commit; after it,
/// count the settled orders and refresh their Redis entries.
/// </summary>
public sealed class OrderProjection(OrderViewCache cache) :
    IBatchEventHandler<ProjectedOrders>,
    IEventHandler<OrderCreatedV1, ProjectedOrders>,
    IEventHandler<InventoryReservedV2, ProjectedOrders>,
    IEventHandler<InventoryReservedV1, ProjectedOrders>,
    IEventHandler<InventoryFailedV1, ProjectedOrders>,
    IEventHandler<InventoryReleasedV1, ProjectedOrders>,
    IEventHandler<PaymentAuthorizedV1, ProjectedOrders>,
    IEventHandler<PaymentFailedV1, ProjectedOrders>,
    IEventHandler<OrderCancelRequestedV1, ProjectedOrders>,
    IEventHandler<InventorySoldV1, ProjectedOrders>,
    IEventHandler<InventoryReturnedV1, ProjectedOrders>,
    IEventHandler<PaymentVoidedV1, ProjectedOrders>,
    IEventHandler<PaymentRefundedV1, ProjectedOrders>,
    IEventHandler<OrderShipRequestedV1, ProjectedOrders>,
    IEventHandler<ShipmentDispatchedV1, ProjectedOrders>
{
    private static readonly Meter Meter = new("OrderStream.OrderMaterializer");
    private static readonly Counter<long> Settled = Meter.CreateCounter<long>("orderstream.orders.settled", "{order}", "Orders that reached a final status, by status and reason");
    // Buckets from a settle within a hop or two (tens of ms) up to the saga deadline (3 minutes by default):
    // the SDK's default buckets are sized for milliseconds and would put every order in the first one.
    private static readonly Histogram<double> SagaDuration = Meter.CreateHistogram<double>("orderstream.saga.duration", "s", "From order accepted to order settled",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 180, 300] });

    public async Task<ProjectedOrders> LoadAsync(IReadOnlyList<IOrderEvent> events, NpgsqlTransaction transaction, CancellationToken ct) =>
        new(await OrderViewStore.LockAsync(transaction, events.Select(e => e.OrderId), ct));

    public Task HandleAsync(OrderCreatedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { Created = true }, context, created: evt);

    // The view shows the lines and amount inventory priced from its catalogue, whichever of this and order.created comes first.
    public Task HandleAsync(InventoryReservedV2 evt, ProjectedOrders orders, EventContext context, CancellationToken ct)
    {
        orders[evt.OrderId].Priced ??= evt;
        return Apply(orders[evt.OrderId], f => f with { Reserved = true }, context);
    }

    // The retiring version was priced as the order asked, which is what its order.created already shows (and what payment charged for it).
    public Task HandleAsync(InventoryReservedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { Reserved = true }, context);

    public Task HandleAsync(InventoryFailedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { InventoryFailure = evt.Reason }, context);

    public Task HandleAsync(InventoryReleasedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { Released = true, ReleaseReason = evt.Reason }, context);

    public Task HandleAsync(PaymentAuthorizedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { PaymentAuthorized = true }, context);

    public Task HandleAsync(PaymentFailedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { PaymentFailure = evt.Reason }, context);

    public Task HandleAsync(OrderCancelRequestedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { CancelRequested = true, CancelReason = evt.Reason }, context);

    public Task HandleAsync(InventorySoldV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { Sold = true }, context);

    public Task HandleAsync(InventoryReturnedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { Returned = true }, context);

    public Task HandleAsync(PaymentVoidedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { Voided = true }, context);

    public Task HandleAsync(PaymentRefundedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { Refunded = true }, context);

    public Task HandleAsync(OrderShipRequestedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { ShipRequested = true }, context);

    public Task HandleAsync(ShipmentDispatchedV1 evt, ProjectedOrders orders, EventContext context, CancellationToken ct) =>
        Apply(orders[evt.OrderId], f => f with { Dispatched = true }, context);

    private static Task Apply(ProjectedOrders.Order order, Func<OrderFacts, OrderFacts> addFact, EventContext context, OrderCreatedV1? created = null)
    {
        var facts = addFact(order.Facts);
        var (status, reason) = OrderState.Next(order.Status, order.Reason, facts);
        if (status != order.Status)
        {
            context.Publish(new OrderUpdatedV1(order.OrderId, status, reason, DateTimeOffset.UtcNow));
            if (OrderStatus.IsTerminal(status)) order.Settlements.Add((status, reason, order.Status == OrderStatus.Pending));
        }
        (order.Status, order.Reason, order.Facts) = (status, reason, facts);
        order.Created ??= created;
        order.Events.Add(context.Envelope);
        return Task.CompletedTask;
    }

    public async Task SaveAsync(ProjectedOrders orders, NpgsqlTransaction transaction, CancellationToken ct)
    {
        var changes = orders.Touched().Select(o => new OrderViewStore.Change(o.OrderId, o.IsNew, o.Status, o.Reason, o.Facts, o.Created, o.Events, o.Priced)).ToList();
        orders.Saved = await OrderViewStore.SaveAsync(transaction, changes, ct);
    }

    public Task AfterCommitAsync(ProjectedOrders orders, CancellationToken ct)
    {
        // Counted first: the metrics must not depend on Redis being up.
        foreach (var (order, view) in orders.Touched().Join(orders.Saved, o => o.OrderId, v => v.OrderId, (o, v) => (o, v)))
        foreach (var (status, reason, fromPending) in order.Settlements)
        {
            KeyValuePair<string, object?>[] tags = [new("status", status), new("reason", reason)];
            Settled.Add(1, tags);
            if (fromPending && view.CreatedAt is { } createdAt) SagaDuration.Record((view.SettledAt!.Value - createdAt).TotalSeconds, tags);
        }
        return cache.SetAllAsync(orders.Saved);
    }
}
