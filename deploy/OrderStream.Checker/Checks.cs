using OrderStream.Contracts;

namespace OrderStream.Checker;

/// <summary>
/// The checks themselves: a pure function of what was read, so each can be tested on hand-made books.
/// Databases are joined here, in memory, by order id: no service's database can see another's.
/// </summary>
public static class Checks
{
    public static CheckReport Evaluate(Books books, KafkaState? kafka, CheckOptions options, bool quiet)
    {
        var limit = options.ExampleLimit;
        var views = books.Views.ToDictionary(v => v.OrderId, StringComparer.Ordinal);
        var payments = books.Payments.ToLookup(p => p.OrderId, StringComparer.Ordinal);
        var reservations = books.Reservations.ToLookup(r => r.OrderId, StringComparer.Ordinal);
        var holds = books.InventoryOrders.ToDictionary(h => h.OrderId, StringComparer.Ordinal);
        var timeline = books.Timeline.ToLookup(t => t.OrderId, StringComparer.Ordinal);
        var events = books.OutboxEvents.ToLookup(e => e.OrderId, StringComparer.Ordinal);
        var accepted = books.AcceptedOrders.ToHashSet(StringComparer.Ordinal);
        var shipments = books.Shipments.ToDictionary(s => s.OrderId, StringComparer.Ordinal);
        var shipRequests = books.ShipRequests.ToHashSet(StringComparer.Ordinal);

        // Every order any service knows of, so an order that reached only some of them is still judged.
        var allOrders = accepted.Concat(views.Keys).Concat(payments.Select(g => g.Key)).Concat(reservations.Select(g => g.Key))
            .Concat(events.Select(g => g.Key)).Concat(shipments.Keys).Concat(shipRequests).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

        long EventCount(string orderId, string topic) => events[orderId].Where(e => e.Topic == topic).Sum(e => e.Count);
        string? PaymentStatusOf(string orderId) => payments[orderId].FirstOrDefault()?.Status;
        string ViewStatus(string orderId) => views.TryGetValue(orderId, out var v) ? v.Status + (v.Reason is null ? "" : " " + v.Reason) : "no view";
        // The status all of an order's reservation lines share: null if it has none, "MIXED" if they disagree.
        string? ReservationStatusOf(string orderId) => reservations[orderId].Select(r => r.Status).Distinct().ToList() switch
        {
            [] => null,
            [var one] => one,
            _ => "MIXED",
        };
        string Hold(string orderId) => holds.TryGetValue(orderId, out var h) ? h.Status + (h.Reason is null ? "" : " " + h.Reason) : "none";
        string Shipment(string orderId) => (shipments.TryGetValue(orderId, out var s) ? s.Status : "none") + (shipRequests.Contains(orderId) ? ", ship requested" : "");
        string Describe(string orderId) =>
            $"{orderId} (payment {PaymentStatusOf(orderId) ?? "none"}, view {ViewStatus(orderId)}, reservations {ReservationStatusOf(orderId) ?? "none"}, inventory {Hold(orderId)}, shipment {Shipment(orderId)})";
        bool Dispatched(string orderId) => shipments.TryGetValue(orderId, out var s) && s.Status == ShipmentStatus.Dispatched;
        // Money taken and kept: an authorization not voided or refunded.
        bool Captured(string orderId) => PaymentStatusOf(orderId) == PaymentStatus.Authorized;
        bool ViewIs(string orderId, string status, string? reason = null) =>
            views.TryGetValue(orderId, out var v) && v.Status == status && (reason is null || v.Reason == reason);
        bool HoldIs(string orderId, string status, string reason) =>
            holds.TryGetValue(orderId, out var h) && h.Status == status && h.Reason == reason;

        var checks = new List<Finding>();
        void Add(string name, string description, IEnumerable<string> offenders)
        {
            var all = offenders.ToList();
            checks.Add(new Finding(name, description, all.Count, all.Take(limit).ToList()));
        }

        // Nothing lost.
        Add(CheckNames.Unsettled, "accepted orders with no final state in the view (PENDING or no view row)",
            books.AcceptedOrders.Order(StringComparer.Ordinal)
                .Where(id => !views.TryGetValue(id, out var v) || !OrderStatus.IsTerminal(v.Status))
                .Select(id => $"{id} ({ViewStatus(id)})"));

        // Nothing doubled.
        Add(CheckNames.DuplicateIdempotencyKeys, "more than one order per (user id, idempotency key)",
            books.RepeatedIdempotencyKeys.Select(k => $"{k.UserId}/{k.Key}: {k.Orders} orders"));
        Add(CheckNames.DuplicateOrderCreated, "more than one order.created event per order (gateway outbox)",
            allOrders.Select(id => (id, n: EventCount(id, Topics.OrderCreated))).Where(x => x.n > 1).Select(x => $"{x.id}: {x.n}"));
        Add(CheckNames.DuplicateCancelRequests, "more than one order.cancel-requested event per order (gateway outbox)",
            allOrders.Select(id => (id, n: EventCount(id, Topics.OrderCancelRequested))).Where(x => x.n > 1).Select(x => $"{x.id}: {x.n}"));
        Add(CheckNames.DuplicateInventoryDecisions, "more than one inventory.reserved/inventory.failed event per order (inventory outbox)",
            allOrders.Select(id => (id, r: EventCount(id, Topics.InventoryReserved), f: EventCount(id, Topics.InventoryFailed)))
                .Where(x => x.r + x.f > 1).Select(x => $"{x.id}: {x.r} reserved, {x.f} failed"));
        Add(CheckNames.DuplicateReleases, "more than one inventory.released or inventory.returned event, or more than one inventory.sold, per order (inventory outbox)",
            allOrders.Select(id => (id, n: EventCount(id, Topics.InventoryReleased), r: EventCount(id, Topics.InventoryReturned), s: EventCount(id, Topics.InventorySold)))
                .Where(x => x.n + x.r > 1 || x.s > 1).Select(x => $"{x.id}: {x.n} released, {x.r} returned, {x.s} sold"));
        Add(CheckNames.MixedReservations, "orders whose reservation lines are not all in one status (part sold or released)",
            allOrders.Where(id => ReservationStatusOf(id) == "MIXED")
                .Select(id => $"{id}: {string.Join(", ", reservations[id].OrderBy(r => r.Sku, StringComparer.Ordinal).Select(r => $"{r.Sku} {r.Status}"))}"));
        Add(CheckNames.DuplicatePayments, "more than one payment, more than one payment.authorized/payment.failed event, or more than one payment.voided/payment.refunded event, per order",
            allOrders.Select(id => (id, rows: payments[id].Count(), a: EventCount(id, Topics.PaymentAuthorized), f: EventCount(id, Topics.PaymentFailed),
                    u: EventCount(id, Topics.PaymentVoided) + EventCount(id, Topics.PaymentRefunded)))
                .Where(x => x.rows > 1 || x.a + x.f > 1 || x.u > 1).Select(x => $"{x.id}: {x.rows} payments, {x.a} authorized, {x.f} failed, {x.u} voided/refunded events"));
        // The money: what payment decided on is what the view shows for a reserved order, both being the amount inventory
        // priced from its catalogue (inventory.reserved.v2), or the order's own for a retiring v1 reservation.
        Add(CheckNames.PaymentAmounts, "reserved orders whose payment amount or currency differs from the amount the view shows (the priced amount)",
            books.Payments.Where(p => p.Amount is not null && views.TryGetValue(p.OrderId, out var v) && v.SeenReserved && v.Amount is not null
                    && (p.Amount != v.Amount || p.Currency?.Trim() != v.Currency?.Trim()))
                .OrderBy(p => p.OrderId, StringComparer.Ordinal)
                .Select(p => $"{p.OrderId}: payment {p.Amount} {p.Currency}, view {views[p.OrderId].Amount} {views[p.OrderId].Currency}"));
        Add(CheckNames.DuplicateTimelineEvents, "an event type in an order's timeline more than once (two events where the saga emits one)",
            books.Timeline.Where(t => t.Count > 1).OrderBy(t => t.OrderId, StringComparer.Ordinal).Select(t => $"{t.OrderId}: {t.Type} x{t.Count}"));

        // Stock balances.
        Add(CheckNames.StockBalance, "SKUs where available + reserved + sold differs from the stock received",
            books.Stock.Where(s => s.Available + s.Reserved + s.Sold != s.Received)
                .Select(s => $"{s.Sku}: {s.Available} + {s.Reserved} + {s.Sold} = {s.Available + s.Reserved + s.Sold}, received {s.Received}"));
        Add(CheckNames.StockNegative, "SKUs with a negative available, reserved or sold",
            books.Stock.Where(s => s.Available < 0 || s.Reserved < 0 || s.Sold < 0)
                .Select(s => $"{s.Sku}: available {s.Available}, reserved {s.Reserved}, sold {s.Sold}"));
        Add(CheckNames.StockReserved, "SKUs with stock still reserved (must be 0 once the system is quiet)",
            books.Stock.Where(s => s.Reserved != 0).Select(s => $"{s.Sku}: {s.Reserved} reserved"));
        var lineTotals = books.Reservations.GroupBy(r => (r.Sku, r.Status)).ToDictionary(g => g.Key, g => g.Sum(r => (long)r.Qty));
        Add(CheckNames.StockVsReservations, "SKUs whose reserved or sold differs from the sum of their RESERVED or SOLD reservation lines",
            books.Stock.Select(s => (s, r: lineTotals.GetValueOrDefault((s.Sku, ReservationStatus.Reserved)), so: lineTotals.GetValueOrDefault((s.Sku, ReservationStatus.Sold))))
                .Where(x => x.s.Reserved != x.r || x.s.Sold != x.so)
                .Select(x => $"{x.s.Sku}: reserved {x.s.Reserved} vs lines {x.r}, sold {x.s.Sold} vs lines {x.so}"));
        var soldByView = books.SoldByConfirmedOrders.ToDictionary(s => s.Sku, s => s.Qty, StringComparer.Ordinal);
        var stockSold = books.Stock.ToDictionary(s => s.Sku, s => s.Sold, StringComparer.Ordinal);
        Add(CheckNames.SoldVsConfirmed, "SKUs whose sold differs from the quantity of CONFIRMED orders' items (view)",
            stockSold.Keys.Union(soldByView.Keys).Order(StringComparer.Ordinal)
                .Where(sku => stockSold.GetValueOrDefault(sku) != soldByView.GetValueOrDefault(sku))
                .Select(sku => $"{sku}: sold {stockSold.GetValueOrDefault(sku)}, confirmed orders {soldByView.GetValueOrDefault(sku)}"));

        // The saga's outcomes agree across the services.
        Add(CheckNames.ConfirmedConsistency, "orders where a net captured payment (AUTHORIZED, not voided or refunded), view CONFIRMED or SHIPPED and reservations SOLD do not agree",
            allOrders.Where(id =>
            {
                var captured = Captured(id);
                var confirmed = ViewIs(id, OrderStatus.Confirmed) || ViewIs(id, OrderStatus.Shipped);
                var sold = ReservationStatusOf(id) == ReservationStatus.Sold;
                return captured != confirmed || confirmed != sold;
            }).Select(Describe));
        // A decline may lose the race to the deadline or a cancel: the order then fails or is cancelled with
        // that reason instead, but its reservation is released all the same.
        Add(CheckNames.DeclinedCompensated, "orders with payment DECLINED whose reservation is not RELEASED or whose view is not FAILED or CANCELLED, or a view FAILED PAYMENT_DECLINED without a declined payment",
            allOrders.Where(id =>
            {
                var declined = PaymentStatusOf(id) == PaymentStatus.Declined;
                var viewDeclined = ViewIs(id, OrderStatus.Failed, FailureReasons.PaymentDeclined);
                var closed = ViewIs(id, OrderStatus.Failed) || ViewIs(id, OrderStatus.Cancelled);
                return (viewDeclined && !declined) || (declined && (ReservationStatusOf(id) != ReservationStatus.Released || !closed));
            }).Select(Describe));
        Add(CheckNames.TimedOutCompensated, "orders released by the saga deadline (inventory RELEASED SAGA_TIMEOUT) or shown FAILED SAGA_TIMEOUT, where the two disagree, the reservation is not RELEASED or the payment is still captured",
            allOrders.Where(id =>
            {
                var viewTimedOut = ViewIs(id, OrderStatus.Failed, FailureReasons.SagaTimeout);
                var holdTimedOut = HoldIs(id, HoldStatus.Released, FailureReasons.SagaTimeout);
                return (viewTimedOut || holdTimedOut) && !(viewTimedOut && holdTimedOut && ReservationStatusOf(id) == ReservationStatus.Released && !Captured(id));
            }).Select(Describe));
        Add(CheckNames.CancelledCompensated, "orders CANCELLED (view or inventory), or with a sale returned or a payment refunded, whose books disagree: a released order keeps no reservation or captured payment, a returned one has every line RETURNED and its payment REFUNDED",
            allOrders.Where(id =>
            {
                var viewCancelled = ViewIs(id, OrderStatus.Cancelled);
                var released = HoldIs(id, HoldStatus.Released, FailureReasons.Cancelled);
                var returned = HoldIs(id, HoldStatus.Returned, FailureReasons.Cancelled);
                var involved = viewCancelled || released || returned || ReservationStatusOf(id) == ReservationStatus.Returned || PaymentStatusOf(id) == PaymentStatus.Refunded;
                if (!involved) return false;
                var booksAgree =
                    (released && ReservationStatusOf(id) is null or ReservationStatus.Released && !Captured(id) && PaymentStatusOf(id) != PaymentStatus.Refunded) ||
                    (returned && ReservationStatusOf(id) == ReservationStatus.Returned && PaymentStatusOf(id) == PaymentStatus.Refunded);
                return !(viewCancelled && booksAgree);
            }).Select(Describe));
        Add(CheckNames.VoidedAfterRelease, "payments VOIDED whose order was not released by the deadline or a cancel (view FAILED SAGA_TIMEOUT or CANCELLED, reservations RELEASED)",
            allOrders.Where(id => PaymentStatusOf(id) == PaymentStatus.Voided &&
                    !((ViewIs(id, OrderStatus.Failed, FailureReasons.SagaTimeout) || ViewIs(id, OrderStatus.Cancelled)) && ReservationStatusOf(id) == ReservationStatus.Released))
                .Select(Describe));
        Add(CheckNames.InventoryFailedAlone, "orders inventory failed (outbox or view) that still have a payment or reservation lines",
            allOrders.Where(id =>
                (EventCount(id, Topics.InventoryFailed) > 0 || (views.TryGetValue(id, out var v) && v.InventoryFailure is not null)) &&
                (payments[id].Any() || reservations[id].Any()))
            .Select(Describe));
        // Fulfilment's books: a shipment leaves only for a confirmed order (sold, paid, never returned) that a seller asked
        // to ship, once; the view is SHIPPED exactly for those; and every ship request was dispatched.
        Add(CheckNames.DuplicateShipments, "more than one shipment.dispatched event (fulfilment outbox) or order.ship-requested event (gateway outbox) per order",
            allOrders.Select(id => (id, d: EventCount(id, Topics.ShipmentDispatched), r: EventCount(id, Topics.OrderShipRequested)))
                .Where(x => x.d > 1 || x.r > 1).Select(x => $"{x.id}: {x.d} dispatched, {x.r} ship requests"));
        Add(CheckNames.ShippedConsistency, "orders dispatched by fulfilment or shown SHIPPED where the two disagree, or whose order is not sold (reservations SOLD), paid (payment captured), never returned and ship-requested",
            allOrders.Where(id =>
            {
                var dispatched = Dispatched(id);
                var viewShipped = ViewIs(id, OrderStatus.Shipped);
                if (!dispatched && !viewShipped && EventCount(id, Topics.ShipmentDispatched) == 0) return false;
                return !(dispatched && viewShipped && ReservationStatusOf(id) == ReservationStatus.Sold && Captured(id)
                    && !(holds.TryGetValue(id, out var h) && h.Status == HoldStatus.Returned) && shipRequests.Contains(id));
            }).Select(Describe));
        Add(CheckNames.ShipRequestsFulfilled, "ship requests (gateway) not dispatched by fulfilment, or shipments requested at fulfilment that the gateway never accepted (must be 0 once quiet)",
            allOrders.Where(id => shipRequests.Contains(id)
                    ? !Dispatched(id)
                    : shipments.TryGetValue(id, out var s) && s.Status is ShipmentStatus.Requested or ShipmentStatus.Dispatched)
                .Select(Describe));
        Add(CheckNames.ConflictingOutcomes, "orders with both outcomes of one step (reserved and failed, authorized and failed, sold and released) in the timeline, the view's facts or the outboxes",
            allOrders.Select(id => (id, why: Conflicts(id))).Where(x => x.why.Count > 0).Select(x => $"{x.id}: {string.Join(", ", x.why)}"));

        List<string> Conflicts(string id)
        {
            var why = new List<string>();
            var types = timeline[id].Select(t => t.Type).ToHashSet(StringComparer.Ordinal);
            if ((types.Contains(Topics.InventoryReserved) || types.Contains(Topics.InventoryReservedV1)) && types.Contains(Topics.InventoryFailed)) why.Add("timeline reserved+failed");
            if (types.Contains(Topics.PaymentAuthorized) && types.Contains(Topics.PaymentFailed)) why.Add("timeline authorized+failed");
            if (types.Contains(Topics.InventorySold) && types.Contains(Topics.InventoryReleased)) why.Add("timeline sold+released");
            if (types.Contains(Topics.ShipmentDispatched) && types.Contains(Topics.InventoryReturned)) why.Add("timeline dispatched+returned");
            if (types.Contains(Topics.OrderShipRequested) && types.Contains(Topics.OrderCancelRequested)) why.Add("timeline ship+cancel requested");
            if (views.TryGetValue(id, out var v))
            {
                if (v.SeenReserved && v.InventoryFailure is not null) why.Add("view facts reserved+failed");
                if (v.SeenAuthorized && v.PaymentFailure is not null) why.Add("view facts authorized+failed");
                if (v.SeenSold && v.ReleaseReason is not null) why.Add("view facts sold+released");
            }
            if (EventCount(id, Topics.InventoryReserved) > 0 && EventCount(id, Topics.InventoryFailed) > 0) why.Add("inventory outbox reserved+failed");
            if (EventCount(id, Topics.PaymentAuthorized) > 0 && EventCount(id, Topics.PaymentFailed) > 0) why.Add("payment outbox authorized+failed");
            if (EventCount(id, Topics.InventorySold) > 0 && EventCount(id, Topics.InventoryReleased) > 0) why.Add("inventory outbox sold+released");
            return why;
        }

        // Nothing left in flight.
        Add(CheckNames.OutboxUnsent, "outbox rows not yet published (sent_at IS NULL), per service",
            books.Outboxes.Where(o => o.Unsent > 0).Select(o => $"{o.Service.Section}: {o.Unsent} (oldest {o.OldestUnsentSeconds:0.###} s)"));
        if (kafka is null)
        {
            checks.Add(new Finding(CheckNames.ConsumerLag, "consumer lag per group and topic (committed offsets vs high watermarks): Kafka not given", 0, [], Skipped: true));
            checks.Add(new Finding(CheckNames.DeadLettersUnaccounted, "dead letters without their original topic/partition/offset or error: Kafka not given", 0, [], Skipped: true));
        }
        else
        {
            var lagging = kafka.Lags.Where(l => l.Lag > 0).ToList();
            checks.Add(new Finding(CheckNames.ConsumerLag, "messages behind the committed offsets, per group and topic",
                lagging.Sum(l => l.Lag), lagging.Take(limit).Select(l => $"{l.Group}/{l.Topic}: {l.Lag}").ToList()));
            Add(CheckNames.DeadLettersUnaccounted, "dead letters without their original topic/partition/offset or error message",
                kafka.DeadLetters.Where(d => !d.AccountedFor).Select(d => $"{d.Topic} [{d.Partition}] @{d.Offset}"));
        }

        return new CheckReport
        {
            Quiet = quiet,
            KafkaChecked = kafka is not null,
            Checks = checks,
            Totals = Totals(books, views, accepted, reservations),
            Outboxes = books.Outboxes,
            Consumers = Consumers(books, kafka, options),
            Topics = kafka?.Topics ?? [],
            DeadLetters = kafka?.DeadLetters ?? [],
            SettleTimes = books.SettleTimes,
        };
    }

    private static Totals Totals(Books books, Dictionary<string, ViewRow> views, HashSet<string> accepted, ILookup<string, ReservationRow> reservations)
    {
        var outcomes = books.AcceptedOrders
            .Select(id => views.TryGetValue(id, out var v) ? v.Status + (v.Reason is null || v.Status == OrderStatus.Cancelled ? "" : " " + v.Reason) : "NO VIEW")
            .GroupBy(o => o, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal);
        var acceptedViews = books.AcceptedOrders.Select(id => views.GetValueOrDefault(id)).ToList();
        return new Totals
        {
            AcceptedOrders = books.AcceptedOrders.Count,
            Outcomes = outcomes,
            Confirmed = acceptedViews.Count(v => v?.Status == OrderStatus.Confirmed),
            Failed = acceptedViews.Count(v => v?.Status == OrderStatus.Failed),
            Cancelled = acceptedViews.Count(v => v?.Status == OrderStatus.Cancelled),
            Shipped = acceptedViews.Count(v => v?.Status == OrderStatus.Shipped),
            Pending = acceptedViews.Count(v => v is null || v.Status == OrderStatus.Pending),
            ViewsWithoutAcceptedOrder = views.Keys.Count(id => !accepted.Contains(id)),
            PaymentsAuthorized = books.Payments.Count(p => p.Status == PaymentStatus.Authorized),
            PaymentsDeclined = books.Payments.Count(p => p.Status == PaymentStatus.Declined),
            PaymentsVoided = books.Payments.Count(p => p.Status == PaymentStatus.Voided),
            PaymentsRefunded = books.Payments.Count(p => p.Status == PaymentStatus.Refunded),
            ReservationsByStatus = reservations
                .Select(g => g.Select(r => r.Status).Distinct().Count() == 1 ? g.First().Status : "MIXED")
                .GroupBy(s => s, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (long)g.Count(), StringComparer.Ordinal),
            Skus = books.Stock.Count,
            StockReceived = books.Stock.Sum(s => s.Received),
            Sold = books.Stock.Sum(s => s.Sold),
        };
    }

    private static List<ConsumerReport> Consumers(Books books, KafkaState? kafka, CheckOptions options) =>
        options.ConsumerGroups.Select(g =>
        {
            var inbox = books.Inbox.Where(i => i.Service == g.Service && i.Consumer == g.Name && g.Topics.Contains(i.Topic)).Sum(i => i.Count);
            if (kafka is null) return new ConsumerReport(g.Name, g.Service, g.Topics, inbox, null, null, null);
            var messages = kafka.Topics.Where(t => g.Topics.Contains(t.Topic)).Sum(t => t.Messages);
            var deadLetters = kafka.DeadLetters.LongCount(d => d.ConsumerGroup == g.Name && d.OriginalTopic is { } t && g.Topics.Contains(t));
            var lag = kafka.Lags.Where(l => l.Group == g.Name).Sum(l => l.Lag);
            return new ConsumerReport(g.Name, g.Service, g.Topics, inbox, messages, deadLetters, lag);
        }).ToList();
}
