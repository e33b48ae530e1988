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
/// <para>
/// One instance serves one consumer transaction (it is scoped), which may apply a whole batch of
/// events: the first event locks the rows of every order in the transaction in one round trip, the
/// events fold into them in memory, and the views are written back in one round trip before the commit.
/// </para>
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
    // Buckets from a settle within a hop or two (tens of ms) up to the saga deadline (3 minutes by default):
    // the SDK's default buckets are sized for milliseconds and would put every order in the first one.
    private static readonly Histogram<double> SagaDuration = Meter.CreateHistogram<double>("orderstream.saga.duration", "s", "From order accepted to order settled",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 180, 300] });

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

    private sealed class Pending(Guid orderId, OrderViewStore.Current current)
    {
        public Guid OrderId { get; } = orderId;
        public bool IsNew { get; } = current.IsNew;
        public string Status { get; set; } = current.Status;
        public string? Reason { get; set; } = current.Reason;
        public OrderFacts Facts { get; set; } = current.Facts;
        public OrderCreatedV1? Created { get; set; }
        public List<Envelope> Events { get; } = [];
        /// <summary>Each move to a settled status in this transaction: the status, reason, and whether it settled a PENDING order.</summary>
        public List<(string Status, string? Reason, bool FromPending)> Settlements { get; } = [];
    }

    private Dictionary<Guid, Pending>? _orders;

    private async Task ApplyAsync(Guid orderId, Func<OrderFacts, OrderFacts> addFact, EventContext context, CancellationToken ct, OrderCreatedV1? created = null)
    {
        if (_orders is null)
        {
            var ids = context.TransactionEvents.Select(e => e.OrderId);
            _orders = (await OrderViewStore.LockAsync(context.Transaction, ids, ct)).ToDictionary(r => r.Key, r => new Pending(r.Key, r.Value));
            context.BeforeCommit(token => SaveAsync(context, token));
        }

        var order = _orders[orderId];
        var facts = addFact(order.Facts);
        var (status, reason) = OrderState.Next(order.Status, order.Reason, facts);
        if (status != order.Status)
        {
            context.Publish(new OrderUpdatedV1(orderId, status, reason, DateTimeOffset.UtcNow));
            if (OrderStatus.IsTerminal(status)) order.Settlements.Add((status, reason, order.Status == OrderStatus.Pending));
        }
        (order.Status, order.Reason, order.Facts) = (status, reason, facts);
        order.Created ??= created;
        order.Events.Add(context.Envelope);
    }

    private async Task SaveAsync(EventContext context, CancellationToken ct)
    {
        var orders = _orders!.Values.Where(o => o.Events.Count > 0).ToList();
        var changes = orders.Select(o => new OrderViewStore.Change(o.OrderId, o.IsNew, o.Status, o.Reason, o.Facts, o.Created, o.Events)).ToList();
        var views = await OrderViewStore.SaveAsync(context.Transaction, changes, ct);
        context.AfterCommit(_ => cache.SetAllAsync(views));
        context.AfterCommit(_ =>
        {
            foreach (var (order, view) in orders.Join(views, o => o.OrderId, v => v.OrderId, (o, v) => (o, v)))
            foreach (var (status, reason, fromPending) in order.Settlements)
            {
                KeyValuePair<string, object?>[] tags = [new("status", status), new("reason", reason)];
                Settled.Add(1, tags);
                if (fromPending && view.CreatedAt is { } createdAt) SagaDuration.Record((view.SettledAt!.Value - createdAt).TotalSeconds, tags);
            }
            return Task.CompletedTask;
        });
    }
}
