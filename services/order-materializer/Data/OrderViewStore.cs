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
        SELECT status, reason, seen_created, seen_reserved, inventory_failure, seen_authorized, payment_failure, seen_released
        FROM order_view WHERE order_id = @OrderId FOR UPDATE;
        """;

    /// <summary>Creates the row if this is the order's first event, locks it, and returns its status and facts.</summary>
    public static async Task<Current> LockAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct)
    {
        var row = await tx.Connection!.QuerySingleAsync<(string Status, string? Reason, bool Created, bool Reserved, string? InventoryFailure, bool Authorized, string? PaymentFailure, bool Released)>(
            new CommandDefinition(LockSql, new { OrderId = orderId }, tx, cancellationToken: ct));
        return new Current(row.Status, row.Reason, new OrderFacts(row.Created, row.Reserved, row.InventoryFailure, row.Authorized, row.PaymentFailure, row.Released));
    }

    private const string SaveSql = """
        UPDATE order_view SET
            status = @Status, reason = @Reason,
            seen_created = @Created, seen_reserved = @Reserved, inventory_failure = @InventoryFailure,
            seen_authorized = @PaymentAuthorized, payment_failure = @PaymentFailure, seen_released = @Released,
            updated_at = now(),
            settled_at = CASE WHEN @Settled THEN COALESCE(settled_at, now()) END
        WHERE order_id = @OrderId;
        INSERT INTO order_timeline (order_id, event_id, type, occurred_at) VALUES (@OrderId, @EventId, @Type, @OccurredAt)
        ON CONFLICT DO NOTHING;
        """;

    private const string SaveOrderSql = """
        UPDATE order_view SET user_id = @UserId, items = @Items::jsonb, amount = @Amount, currency = @Currency, created_at = @CreatedAt
        WHERE order_id = @OrderId
        """;

    public static async Task SaveAsync(NpgsqlTransaction tx, Guid orderId, string status, string? reason, OrderFacts facts, Envelope cause, CancellationToken ct)
    {
        await tx.Connection!.ExecuteAsync(new CommandDefinition(SaveSql, new
        {
            OrderId = orderId, Status = status, Reason = reason,
            facts.Created, facts.Reserved, facts.InventoryFailure, facts.PaymentAuthorized, facts.PaymentFailure, facts.Released,
            Settled = OrderStatus.IsTerminal(status),
            cause.EventId, Type = cause.VersionedType, cause.OccurredAt,
        }, tx, cancellationToken: ct));
    }

    public static async Task SaveOrderAsync(NpgsqlTransaction tx, OrderCreatedV1 order, CancellationToken ct)
    {
        await tx.Connection!.ExecuteAsync(new CommandDefinition(SaveOrderSql, new
        {
            order.OrderId, order.UserId, Items = JsonSerializer.Serialize(order.Items, EventJson.Options), order.Amount, order.Currency, order.CreatedAt,
        }, tx, cancellationToken: ct));
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
        if (row is null) return null;
        var timeline = (await results.ReadAsync<TimelineRow>()).Select(t => new TimelineEntry(t.Type, t.EventId, Utc(t.OccurredAt))).ToList();
        return new OrderView(row.OrderId, row.Status, row.Reason, row.UserId,
            row.Items is null ? null : JsonSerializer.Deserialize<List<OrderLine>>(row.Items, EventJson.Options),
            row.Amount, row.Currency, row.CreatedAt is { } c ? Utc(c) : null, Utc(row.UpdatedAt), row.SettledAt is { } s ? Utc(s) : null, timeline);
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
