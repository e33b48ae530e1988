using System.Text.Json;
using Dapper;
using Npgsql;
using OrderStream.ApiGateway.Validation;
using OrderStream.Contracts;
using OrderStream.Messaging;

namespace OrderStream.ApiGateway.Data;

public enum AcceptOutcome { Created, Replayed, KeyReusedWithDifferentBody }

/// <summary>Accepted orders. An order and its order.created event are written in one transaction.</summary>
public static class OrderStore
{
    private const string InsertSql = """
        INSERT INTO orders (order_id, user_id, idempotency_key, request_hash, items, amount, currency, created_at)
        VALUES (@OrderId, @UserId, @IdempotencyKey, @RequestHash, @Items::jsonb, @Amount, @Currency, @CreatedAt)
        ON CONFLICT (user_id, idempotency_key) DO NOTHING
        """;

    // Runs after a conflict: the other request has committed by then (the insert waited for it).
    private const string ExistingSql = """
        SELECT order_id, request_hash FROM orders WHERE user_id = @UserId AND idempotency_key = @IdempotencyKey
        """;

    /// <summary>An accepted order as a PENDING view (before the materializer has one).</summary>
    public static OrderView PendingView(Guid orderId, string userId, IReadOnlyList<OrderLine> items, decimal amount, string currency, DateTimeOffset createdAt) =>
        new(orderId, OrderStatus.Pending, null, userId, items, amount, currency, createdAt, createdAt, null, []);

    public static async Task<(AcceptOutcome Outcome, Guid OrderId)> AcceptAsync(
        NpgsqlDataSource db, OutboxSignal signal, ValidOrder order, string? idempotencyKey, CancellationToken ct)
    {
        var orderId = Guid.CreateVersion7();
        var createdAt = DateTimeOffset.UtcNow;
        var hash = order.Hash();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var inserted = await conn.ExecuteAsync(new CommandDefinition(InsertSql, new
        {
            OrderId = orderId, order.UserId, IdempotencyKey = idempotencyKey, RequestHash = hash,
            Items = JsonSerializer.Serialize(order.Items, EventJson.Options), order.Amount, order.Currency, CreatedAt = createdAt,
        }, tx, cancellationToken: ct));

        if (inserted == 0)
        {
            var (existingId, existingHash) = await conn.QuerySingleAsync<(Guid, byte[])>(
                new CommandDefinition(ExistingSql, new { order.UserId, IdempotencyKey = idempotencyKey }, tx, cancellationToken: ct));
            return (hash.AsSpan().SequenceEqual(existingHash) ? AcceptOutcome.Replayed : AcceptOutcome.KeyReusedWithDifferentBody, existingId);
        }

        var created = new OrderCreatedV1(orderId, order.UserId, order.Items, order.Amount, order.Currency, createdAt);
        await Outbox.WriteAsync(tx, [OutgoingEvent.For(created)], causationId: null, ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        return (AcceptOutcome.Created, orderId);
    }

    private const string GetSql = """
        SELECT order_id, user_id, items::text, amount, currency, created_at FROM orders WHERE order_id = @OrderId
        """;

    /// <summary>The order as accepted, shown as PENDING: for the moment between 202 and the materializer's first event.</summary>
    public static async Task<OrderView?> GetPendingViewAsync(NpgsqlDataSource db, Guid orderId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(Guid OrderId, string UserId, string Items, decimal Amount, string Currency, DateTime CreatedAt)?>(
            new CommandDefinition(GetSql, new { OrderId = orderId }, cancellationToken: ct));
        if (row is not { } r) return null;
        return PendingView(r.OrderId, r.UserId, JsonSerializer.Deserialize<List<OrderLine>>(r.Items, EventJson.Options)!,
            r.Amount, r.Currency, new DateTimeOffset(DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc)));
    }

    /// <summary>An accepted order's owner, and its cancel request if it has one.</summary>
    public sealed record OrderOwner(string UserId, Cancellation? Cancellation);

    /// <summary>A cancel request as recorded: the client's reason (null if none) and when it was first made.</summary>
    public sealed record Cancellation(string? Reason, DateTimeOffset RequestedAt);

    private const string OwnerSql = """
        SELECT o.user_id AS UserId, c.order_id IS NOT NULL AS Cancelled, c.reason AS Reason, c.requested_at AS RequestedAt
        FROM orders o LEFT JOIN order_cancellations c USING (order_id) WHERE o.order_id = @OrderId
        """;

    private sealed record OwnerRow(string UserId, bool Cancelled, string? Reason, DateTime? RequestedAt);

    public static async Task<OrderOwner?> GetOwnerAsync(NpgsqlDataSource db, Guid orderId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<OwnerRow>(new CommandDefinition(OwnerSql, new { OrderId = orderId }, cancellationToken: ct));
        if (row is null) return null;
        return new OrderOwner(row.UserId, row.Cancelled ? new Cancellation(row.Reason, Utc(row.RequestedAt!.Value)) : null);
    }

    private const string InsertCancellationSql = """
        INSERT INTO order_cancellations (order_id, reason) VALUES (@OrderId, @Reason)
        ON CONFLICT (order_id) DO NOTHING
        RETURNING requested_at
        """;

    // Runs after a conflict: the other request has committed by then (the insert waited for it).
    private const string CancellationSql = "SELECT reason AS Reason, requested_at AS RequestedAt FROM order_cancellations WHERE order_id = @OrderId";

    /// <summary>
    /// Records the cancel request and its order.cancel-requested event in one transaction; a second request
    /// for the order writes nothing and gets the first one back.
    /// </summary>
    public static async Task<Cancellation> RequestCancelAsync(NpgsqlDataSource db, OutboxSignal signal, Guid orderId, string? reason, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var requestedAt = await conn.QuerySingleOrDefaultAsync<DateTime?>(
            new CommandDefinition(InsertCancellationSql, new { OrderId = orderId, Reason = reason }, tx, cancellationToken: ct));
        if (requestedAt is not { } at)
        {
            var existing = await conn.QuerySingleAsync<(string? Reason, DateTime RequestedAt)>(
                new CommandDefinition(CancellationSql, new { OrderId = orderId }, tx, cancellationToken: ct));
            return new Cancellation(existing.Reason, Utc(existing.RequestedAt));
        }
        var cancellation = new Cancellation(reason, Utc(at));
        await Outbox.WriteAsync(tx, [OutgoingEvent.For(new OrderCancelRequestedV1(orderId, reason, cancellation.RequestedAt))], causationId: null, ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        return cancellation;
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
