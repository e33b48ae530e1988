using System.Text.Json;
using Dapper;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.OrderMaterializer.Domain;

namespace OrderStream.OrderMaterializer.Data;

public static class OrderViewStore
{
    public sealed record Current(string Status, string? Reason, OrderFacts Facts);

    private const string LockSql = """
        INSERT INTO order_view (order_id) VALUES (@OrderId) ON CONFLICT DO NOTHING;
        SELECT status, reason, seen_created AS Created, seen_reserved AS Reserved, inventory_failure AS InventoryFailure,
               seen_authorized AS PaymentAuthorized, payment_failure AS PaymentFailure, seen_released AS Released,
               release_reason AS ReleaseReason, seen_sold AS Sold, seen_returned AS Returned, cancel_requested AS CancelRequested,
               cancel_reason AS CancelReason, seen_voided AS Voided, seen_refunded AS Refunded
        FROM order_view WHERE order_id = @OrderId FOR UPDATE;
        """;

    private sealed record LockRow(string Status, string? Reason, bool Created, bool Reserved, string? InventoryFailure, bool PaymentAuthorized,
        string? PaymentFailure, bool Released, string? ReleaseReason, bool Sold, bool Returned, bool CancelRequested, string? CancelReason,
        bool Voided, bool Refunded);

    /// <summary>Creates the row if this is the order's first event, locks it, and returns its status and facts.</summary>
    public static async Task<Current> LockAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct)
    {
        var r = await tx.Connection!.QuerySingleAsync<LockRow>(new CommandDefinition(LockSql, new { OrderId = orderId }, tx, cancellationToken: ct));
        return new Current(r.Status, r.Reason, new OrderFacts(r.Created, r.Reserved, r.InventoryFailure, r.PaymentAuthorized, r.PaymentFailure, r.Released,
            r.ReleaseReason, r.Sold, r.Returned, r.CancelRequested, r.CancelReason, r.Voided, r.Refunded));
    }

    // One round trip: the change, the order's fields if this is its order.created, the timeline entry,
    // and back the view as it now is (for the cache), so nothing is read again after the write.
    private const string SaveSql = """
        UPDATE order_view SET
            status = @Status, reason = @Reason,
            seen_created = @Created, seen_reserved = @Reserved, inventory_failure = @InventoryFailure,
            seen_authorized = @PaymentAuthorized, payment_failure = @PaymentFailure, seen_released = @Released,
            release_reason = @ReleaseReason, seen_sold = @Sold, seen_returned = @Returned, cancel_requested = @CancelRequested,
            cancel_reason = @CancelReason, seen_voided = @Voided, seen_refunded = @Refunded,
            user_id = COALESCE(@UserId, user_id), items = COALESCE(@Items::jsonb, items), amount = COALESCE(@Amount, amount),
            currency = COALESCE(@Currency, currency), created_at = COALESCE(@CreatedAt, created_at),
            updated_at = now(),
            settled_at = CASE WHEN @Settled THEN COALESCE(settled_at, now()) END
        WHERE order_id = @OrderId
        RETURNING order_id AS OrderId, status, reason, user_id AS UserId, items::text AS Items, amount, currency,
                  created_at AS CreatedAt, updated_at AS UpdatedAt, settled_at AS SettledAt;
        INSERT INTO order_timeline (order_id, event_id, type, occurred_at) VALUES (@OrderId, @EventId, @Type, @OccurredAt)
        ON CONFLICT DO NOTHING;
        SELECT type, event_id AS EventId, occurred_at AS OccurredAt FROM order_timeline WHERE order_id = @OrderId ORDER BY occurred_at, event_id;
        """;

    /// <summary>Saves the derived status and facts (and the order itself, from its order.created), records the event, and returns the view.</summary>
    public static async Task<OrderView> SaveAsync(NpgsqlTransaction tx, Guid orderId, string status, string? reason, OrderFacts facts, Envelope cause,
        OrderCreatedV1? created, CancellationToken ct)
    {
        await using var results = await tx.Connection!.QueryMultipleAsync(new CommandDefinition(SaveSql, new
        {
            OrderId = orderId, Status = status, Reason = reason,
            facts.Created, facts.Reserved, facts.InventoryFailure, facts.PaymentAuthorized, facts.PaymentFailure, facts.Released,
            facts.ReleaseReason, facts.Sold, facts.Returned, facts.CancelRequested, facts.CancelReason, facts.Voided, facts.Refunded,
            Settled = OrderStatus.IsTerminal(status),
            created?.UserId, Items = created is null ? null : JsonSerializer.Serialize(created.Items, EventJson.Options),
            created?.Amount, created?.Currency, created?.CreatedAt,
            cause.EventId, Type = cause.VersionedType, cause.OccurredAt,
        }, tx, cancellationToken: ct));
        return ToView(await results.ReadSingleAsync<ViewRow>(), await results.ReadAsync<TimelineRow>());
    }

    private const string GetSql = """
        SELECT order_id AS OrderId, status, reason, user_id AS UserId, items::text AS Items, amount, currency,
               created_at AS CreatedAt, updated_at AS UpdatedAt, settled_at AS SettledAt
        FROM order_view WHERE order_id = @OrderId;
        SELECT type, event_id AS EventId, occurred_at AS OccurredAt FROM order_timeline WHERE order_id = @OrderId ORDER BY occurred_at, event_id;
        """;

    private sealed record ViewRow(Guid OrderId, string Status, string? Reason, string? UserId, string? Items, decimal? Amount, string? Currency,
        DateTime? CreatedAt, DateTime UpdatedAt, DateTime? SettledAt);

    private sealed record TimelineRow(string Type, Guid EventId, DateTime OccurredAt);

    public static async Task<OrderView?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid orderId, CancellationToken ct)
    {
        await using var results = await conn.QueryMultipleAsync(new CommandDefinition(GetSql, new { OrderId = orderId }, tx, cancellationToken: ct));
        var row = await results.ReadSingleOrDefaultAsync<ViewRow>();
        return row is null ? null : ToView(row, await results.ReadAsync<TimelineRow>());
    }

    private static OrderView ToView(ViewRow row, IEnumerable<TimelineRow> timeline) =>
        new(row.OrderId, row.Status, row.Reason, row.UserId,
            row.Items is null ? null : JsonSerializer.Deserialize<List<OrderLine>>(row.Items, EventJson.Options),
            row.Amount, row.Currency, row.CreatedAt is { } c ? Utc(c) : null, Utc(row.UpdatedAt), row.SettledAt is { } s ? Utc(s) : null,
            timeline.Select(t => new TimelineEntry(t.Type, t.EventId, Utc(t.OccurredAt))).ToList());

    /// <summary>An order still PENDING after a while: where its saga got to, for an operator.</summary>
    public sealed record StuckOrder(Guid OrderId, string? UserId, DateTimeOffset? CreatedAt, double AgeSeconds, IReadOnlyList<string> Events);

    // Age counts from the order's createdAt, or, if order.created has not arrived, from the view's last change.
    private const string StuckSql = """
        SELECT v.order_id AS OrderId, v.user_id AS UserId, v.created_at AS CreatedAt,
               EXTRACT(EPOCH FROM now() - COALESCE(v.created_at, v.updated_at))::float8 AS AgeSeconds,
               ARRAY(SELECT t.type FROM order_timeline t WHERE t.order_id = v.order_id ORDER BY t.occurred_at, t.event_id) AS Events
        FROM order_view v
        WHERE v.status = 'PENDING' AND COALESCE(v.created_at, v.updated_at) <= now() - @OlderThan
        ORDER BY COALESCE(v.created_at, v.updated_at), v.order_id
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

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
