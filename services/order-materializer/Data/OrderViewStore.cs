using System.Text.Json;
using Dapper;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.OrderMaterializer.Domain;

namespace OrderStream.OrderMaterializer.Data;

public static class OrderViewStore
{
    /// <summary>An order's view as the transaction found it; <see cref="IsNew"/> for an order seen for the first time (it has no view yet).</summary>
    public sealed record Current(string Status, string? Reason, OrderFacts Facts, bool IsNew)
    {
        public static readonly Current New = new(OrderStatus.Pending, null, new OrderFacts(), IsNew: true);
    }

    /// <summary>
    /// An order as a consumer transaction leaves it: its status and facts, its fields if its order.created came, the events
    /// it saw, and its priced lines if its inventory.reserved.v2 came.
    /// </summary>
    public sealed record Change(Guid OrderId, bool IsNew, string Status, string? Reason, OrderFacts Facts, OrderCreatedV1? Created, IReadOnlyList<Envelope> Events,
        InventoryReservedV2? Priced = null);

    // Locked in order-id order, so two transactions never wait on each other in a cycle. The
    // "= ANY(@OrderIds)" lookups keep these statements on the primary key: the prepared (generic) plan
    // of a join with unnest() is a hash join over a sequential scan of the whole table.
    private const string LockSql = """
        SELECT order_id AS OrderId, status, reason, seen_created AS Created, seen_reserved AS Reserved, inventory_failure AS InventoryFailure,
               seen_authorized AS PaymentAuthorized, payment_failure AS PaymentFailure, seen_released AS Released,
               release_reason AS ReleaseReason, seen_sold AS Sold, seen_returned AS Returned, cancel_requested AS CancelRequested,
               cancel_reason AS CancelReason, seen_voided AS Voided, seen_refunded AS Refunded,
               ship_requested AS ShipRequested, seen_dispatched AS Dispatched
        FROM order_view WHERE order_id = ANY(@OrderIds) ORDER BY order_id FOR UPDATE
        """;

    private sealed record LockRow(Guid OrderId, string Status, string? Reason, bool Created, bool Reserved, string? InventoryFailure, bool PaymentAuthorized,
        string? PaymentFailure, bool Released, string? ReleaseReason, bool Sold, bool Returned, bool CancelRequested, string? CancelReason,
        bool Voided, bool Refunded, bool ShipRequested, bool Dispatched);

    /// <summary>
    /// Locks the views of <paramref name="orderIds"/> and returns each one's status and facts; an order
    /// without a view yet gets <see cref="Current.New"/>, and <see cref="SaveAsync"/> inserts it whole.
    /// </summary>
    public static async Task<Dictionary<Guid, Current>> LockAsync(NpgsqlTransaction tx, IEnumerable<Guid> orderIds, CancellationToken ct)
    {
        var ids = orderIds.Distinct().Order().ToArray();
        var rows = (await tx.Connection!.QueryAsync<LockRow>(new CommandDefinition(LockSql, new { OrderIds = ids }, tx, cancellationToken: ct)))
            .ToDictionary(r => r.OrderId);
        return ids.ToDictionary(id => id, id => rows.TryGetValue(id, out var r)
            ? new Current(r.Status, r.Reason, new OrderFacts(r.Created, r.Reserved, r.InventoryFailure, r.PaymentAuthorized, r.PaymentFailure,
                r.Released, r.ReleaseReason, r.Sold, r.Returned, r.CancelRequested, r.CancelReason, r.Voided, r.Refunded,
                r.ShipRequested, r.Dispatched), IsNew: false)
            : Current.New);
    }

    // One round trip for the whole transaction: the views of orders seen for the first time inserted
    // whole (not inserted empty, then rewritten with every index entry again), the others updated, the
    // timeline entries, and back the views as they now are (for the cache), so nothing is read again
    // after the write. The sub-statements share one snapshot, so the UPDATE never sees the INSERT's rows.
    // A view that another transaction created since the lock (two consumers on one order during a
    // rebalance) makes the INSERT fail on the primary key: the transaction rolls back, and the
    // consumer applies its events again, which then find the view and update it.
    // Items, amount and currency come from order.created (what the client asked) until the priced reservation
    // (inventory.reserved.v2) sets the catalogue's; once priced, a late order.created no longer changes them.
    private const string SaveSql = """
        WITH u AS (
            SELECT * FROM unnest(@OrderIds, @IsNew, @Statuses, @Reasons, @Created, @Reserved, @InventoryFailures, @Authorized, @PaymentFailures,
                                 @Released, @ReleaseReasons, @Sold, @Returned, @CancelRequested, @CancelReasons, @Voided, @Refunded, @Settled,
                                 @UserIds, @Items, @Amounts, @Currencies, @CreatedAts, @PricedItems, @PricedAmounts, @PricedCurrencies,
                                 @ShipRequested, @Dispatched)
                AS u(order_id, is_new, status, reason, created, reserved, inventory_failure, authorized, payment_failure,
                     released, release_reason, sold, returned, cancel_requested, cancel_reason, voided, refunded, settled,
                     user_id, items, amount, currency, created_at, priced_items, priced_amount, priced_currency,
                     ship_requested, dispatched)
        ),
        inserted AS (
            INSERT INTO order_view (order_id, status, reason, seen_created, seen_reserved, inventory_failure, seen_authorized, payment_failure,
                                    seen_released, release_reason, seen_sold, seen_returned, cancel_requested, cancel_reason, seen_voided,
                                    seen_refunded, ship_requested, seen_dispatched, user_id, items, amount, currency, created_at, settled_at, priced)
            SELECT order_id, status, reason, created, reserved, inventory_failure, authorized, payment_failure,
                   released, release_reason, sold, returned, cancel_requested, cancel_reason, voided,
                   refunded, ship_requested, dispatched, user_id, COALESCE(priced_items, items)::jsonb, COALESCE(priced_amount, amount), COALESCE(priced_currency, currency),
                   CASE WHEN user_id IS NOT NULL THEN created_at END, CASE WHEN settled THEN now() END, priced_items IS NOT NULL
            FROM u WHERE u.is_new ORDER BY order_id
            RETURNING order_id, status, reason, user_id, items, amount, currency, created_at, updated_at, settled_at
        ),
        updated AS (
            UPDATE order_view v SET
                status = u.status, reason = u.reason,
                seen_created = u.created, seen_reserved = u.reserved, inventory_failure = u.inventory_failure,
                seen_authorized = u.authorized, payment_failure = u.payment_failure, seen_released = u.released,
                release_reason = u.release_reason, seen_sold = u.sold, seen_returned = u.returned, cancel_requested = u.cancel_requested,
                cancel_reason = u.cancel_reason, seen_voided = u.voided, seen_refunded = u.refunded,
                ship_requested = u.ship_requested, seen_dispatched = u.dispatched,
                user_id = COALESCE(u.user_id, v.user_id),
                items = COALESCE(u.priced_items::jsonb, CASE WHEN v.priced THEN v.items END, u.items::jsonb, v.items),
                amount = COALESCE(u.priced_amount, CASE WHEN v.priced THEN v.amount END, u.amount, v.amount),
                currency = COALESCE(u.priced_currency, CASE WHEN v.priced THEN v.currency END, u.currency, v.currency),
                priced = v.priced OR u.priced_items IS NOT NULL,
                created_at = CASE WHEN u.user_id IS NULL THEN v.created_at ELSE u.created_at END,
                updated_at = now(),
                settled_at = CASE WHEN u.settled THEN COALESCE(v.settled_at, now()) END
            FROM u
            WHERE NOT u.is_new AND v.order_id = u.order_id AND v.order_id = ANY(@OrderIds)
            RETURNING v.order_id, v.status, v.reason, v.user_id, v.items, v.amount, v.currency, v.created_at, v.updated_at, v.settled_at
        )
        SELECT order_id AS OrderId, status, reason, user_id AS UserId, items::text AS Items, amount, currency,
               created_at AS CreatedAt, updated_at AS UpdatedAt, settled_at AS SettledAt
        FROM (SELECT * FROM inserted UNION ALL SELECT * FROM updated) AS saved;
        INSERT INTO order_timeline (order_id, event_id, type, occurred_at)
        SELECT * FROM unnest(@EventOrderIds, @EventIds, @EventTypes, @OccurredAts)
        ON CONFLICT DO NOTHING;
        SELECT order_id AS OrderId, type, event_id AS EventId, occurred_at AS OccurredAt FROM order_timeline
        WHERE order_id = ANY(@OrderIds) ORDER BY order_id, occurred_at, event_id;
        """;

    /// <summary>Saves every change (and each order itself, from its order.created), records the events, and returns the views.</summary>
    public static async Task<IReadOnlyList<OrderView>> SaveAsync(NpgsqlTransaction tx, IReadOnlyCollection<Change> changes, CancellationToken ct)
    {
        if (changes.Count == 0) return [];
        T[] Each<T>(Func<Change, T> field) => changes.Select(field).ToArray();
        var events = changes.SelectMany(c => c.Events.Select(e => (c.OrderId, Event: e))).ToList();
        await using var results = await tx.Connection!.QueryMultipleAsync(new CommandDefinition(SaveSql, new
        {
            OrderIds = Each(c => c.OrderId), IsNew = Each(c => c.IsNew), Statuses = Each(c => c.Status), Reasons = Each(c => c.Reason),
            Created = Each(c => c.Facts.Created), Reserved = Each(c => c.Facts.Reserved), InventoryFailures = Each(c => c.Facts.InventoryFailure),
            Authorized = Each(c => c.Facts.PaymentAuthorized), PaymentFailures = Each(c => c.Facts.PaymentFailure), Released = Each(c => c.Facts.Released),
            ReleaseReasons = Each(c => c.Facts.ReleaseReason), Sold = Each(c => c.Facts.Sold), Returned = Each(c => c.Facts.Returned),
            CancelRequested = Each(c => c.Facts.CancelRequested), CancelReasons = Each(c => c.Facts.CancelReason),
            Voided = Each(c => c.Facts.Voided), Refunded = Each(c => c.Facts.Refunded),
            ShipRequested = Each(c => c.Facts.ShipRequested), Dispatched = Each(c => c.Facts.Dispatched), Settled = Each(c => OrderStatus.IsTerminal(c.Status)),
            UserIds = Each(c => c.Created?.UserId),
            Items = Each(c => c.Created is { } created ? JsonSerializer.Serialize(created.Items, EventJson.Options) : null),
            Amounts = Each(c => c.Created?.Amount), Currencies = Each(c => c.Created?.Currency),
            // Npgsql cannot write an array of timestamps with nulls in it, so a row without an order.created
            // carries the epoch, which the SQL ignores (its user_id is null).
            CreatedAts = Each(c => c.Created?.CreatedAt.UtcDateTime ?? DateTime.UnixEpoch),
            // The view's lines keep their shape (sku, qty, price): the price is now the catalogue's unit price.
            PricedItems = Each(c => c.Priced is { } priced
                ? JsonSerializer.Serialize(priced.Lines.Select(l => new OrderLine(l.Sku, l.Qty, l.UnitPrice)), EventJson.Options) : null),
            PricedAmounts = Each(c => c.Priced?.Amount), PricedCurrencies = Each(c => c.Priced?.Currency),
            EventOrderIds = events.Select(e => e.OrderId).ToArray(), EventIds = events.Select(e => e.Event.EventId).ToArray(),
            EventTypes = events.Select(e => e.Event.VersionedType).ToArray(), OccurredAts = events.Select(e => e.Event.OccurredAt.UtcDateTime).ToArray(),
        }, tx, cancellationToken: ct));
        var views = (await results.ReadAsync<ViewRow>()).ToList();
        var timelines = (await results.ReadAsync<TimelineRow>()).ToLookup(t => t.OrderId);
        return views.Select(v => ToView(v, timelines[v.OrderId])).ToList();
    }

    // One statement, so one snapshot: with two (view, then timeline), a transaction committing in
    // between gave a view whose timeline showed an event its status did not reflect yet. The view's
    // columns repeat on each timeline row (a handful per order).
    private const string GetSql = """
        SELECT v.order_id AS OrderId, v.status, v.reason, v.user_id AS UserId, v.items::text AS Items, v.amount, v.currency,
               v.created_at AS CreatedAt, v.updated_at AS UpdatedAt, v.settled_at AS SettledAt,
               t.order_id AS OrderId, t.type, t.event_id AS EventId, t.occurred_at AS OccurredAt
        FROM order_view v LEFT JOIN order_timeline t ON t.order_id = v.order_id
        WHERE v.order_id = @OrderId
        ORDER BY t.occurred_at, t.event_id
        """;

    private sealed record ViewRow(Guid OrderId, string Status, string? Reason, string? UserId, string? Items, decimal? Amount, string? Currency,
        DateTime? CreatedAt, DateTime UpdatedAt, DateTime? SettledAt);

    private sealed record TimelineRow(Guid OrderId, string Type, Guid EventId, DateTime OccurredAt);

    public static async Task<OrderView?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid orderId, CancellationToken ct)
    {
        // Split at the timeline's order_id: Dapper maps an order with no timeline row yet to a null entry.
        var rows = (await conn.QueryAsync<ViewRow, TimelineRow?, (ViewRow View, TimelineRow? Entry)>(
            new CommandDefinition(GetSql, new { OrderId = orderId }, tx, cancellationToken: ct), (view, entry) => (view, entry), splitOn: "OrderId")).AsList();
        return rows.Count == 0 ? null : ToView(rows[0].View, rows.Where(r => r.Entry is not null).Select(r => r.Entry!));
    }

    private static OrderView ToView(ViewRow row, IEnumerable<TimelineRow> timeline) =>
        new(row.OrderId, row.Status, row.Reason, row.UserId,
            row.Items is null ? null : JsonSerializer.Deserialize<List<OrderLine>>(row.Items, EventJson.Options),
            row.Amount, row.Currency, row.CreatedAt is { } c ? Utc(c) : null, Utc(row.UpdatedAt), row.SettledAt is { } s ? Utc(s) : null,
            timeline.Select(t => new TimelineEntry(t.Type, t.EventId, Utc(t.OccurredAt))).ToList());

    /// <summary>An order still PENDING after a while: where its saga got to, for an operator.</summary>
    public sealed record StuckOrder(Guid OrderId, string? UserId, DateTimeOffset? CreatedAt, double AgeSeconds, IReadOnlyList<string> Events);

    // Age counts from the order's createdAt, or, if order.created has not arrived, from when its view was first seen.
    // The status is a constant spliced in, so PostgreSQL sees the literal the partial index
    // order_view_pending (WHERE status = 'PENDING') is built on, in every plan.
    private const string StuckSql = $$"""
        SELECT v.order_id AS OrderId, v.user_id AS UserId, v.created_at AS CreatedAt,
               EXTRACT(EPOCH FROM now() - COALESCE(v.created_at, v.first_seen_at))::float8 AS AgeSeconds,
               ARRAY(SELECT t.type FROM order_timeline t WHERE t.order_id = v.order_id ORDER BY t.occurred_at, t.event_id) AS Events
        FROM order_view v
        WHERE v.status = '{{OrderStatus.Pending}}' AND COALESCE(v.created_at, v.first_seen_at) <= now() - @OlderThan
        ORDER BY COALESCE(v.created_at, v.first_seen_at), v.order_id
        LIMIT @Limit
        """;

    // A class with setters: Dapper will not bind a text[] column to a record's constructor parameter.
    private sealed class StuckRow
    {
        public Guid OrderId { get; init; }
        public string? UserId { get; init; }
        public DateTime? CreatedAt { get; init; }
        public double AgeSeconds { get; init; }
        public string[] Events { get; init; } = [];
    }

    /// <summary>PENDING orders older than <paramref name="olderThan"/>, oldest first.</summary>
    public static async Task<IReadOnlyList<StuckOrder>> StuckAsync(NpgsqlDataSource db, TimeSpan olderThan, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<StuckRow>(new CommandDefinition(StuckSql, new { OlderThan = olderThan, Limit = limit }, cancellationToken: ct));
        return rows.Select(r => new StuckOrder(r.OrderId, r.UserId, r.CreatedAt is { } c ? Utc(c) : null, r.AgeSeconds, r.Events)).ToList();
    }

    public sealed record PendingCounts(long Pending, long Stuck);

    // The same age as StuckSql, counted instead of listed: the operator's overview polls it every second.
    private const string PendingCountsSql = $$"""
        SELECT count(*) AS Pending,
               count(*) FILTER (WHERE COALESCE(created_at, first_seen_at) <= now() - @StuckAfter) AS Stuck
        FROM order_view WHERE status = '{{OrderStatus.Pending}}'
        """;

    /// <summary>How many orders are PENDING, and how many of them for longer than <paramref name="stuckAfter"/>.</summary>
    public static async Task<PendingCounts> PendingCountsAsync(NpgsqlDataSource db, TimeSpan stuckAfter, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<PendingCounts>(new CommandDefinition(PendingCountsSql, new { StuckAfter = stuckAfter }, cancellationToken: ct));
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
