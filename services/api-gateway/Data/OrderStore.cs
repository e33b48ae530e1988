using System.Text.Json;
using Dapper;
using Npgsql;
using OrderStream.ApiGateway.Validation;
using OrderStream.Contracts;
using OrderStream.Messaging;

namespace OrderStream.ApiGateway.Data;

public enum AcceptOutcome { Created, Replayed, KeyReusedWithDifferentBody }

/// <summary>An order to write, with everything that depends only on its request already worked out.</summary>
public sealed record NewOrder(Guid OrderId, ValidOrder Order, string? IdempotencyKey, byte[] RequestHash, string ItemsJson, DateTimeOffset CreatedAt, OutboxRow Created)
{
    /// <summary>
    /// Call it on the request's path: the order.created row captures the current span, so the event
    /// continues the trace of the request that placed the order, whichever batch writes it.
    /// </summary>
    public static NewOrder Prepare(ValidOrder order, string? idempotencyKey)
    {
        var orderId = Guid.CreateVersion7();
        var createdAt = DateTimeOffset.UtcNow;
        var rows = new List<OutboxRow>(1);
        Outbox.Prepare(rows, [OutgoingEvent.For(new OrderCreatedV1(orderId, order.UserId, order.Items, order.Amount, order.Currency, createdAt))], causationId: null);
        return new(orderId, order, idempotencyKey, order.Hash(), JsonSerializer.Serialize(order.Items, EventJson.Options), createdAt, rows[0]);
    }
}

/// <summary>Accepted orders. An order and its order.created event are written in one transaction (see <see cref="OrderWriter"/>).</summary>
public static class OrderStore
{
    // One statement, so one transaction: the orders, and the order.created rows of those inserted. Sorted
    // by key, so two gateways writing overlapping keys take the index's locks in the same order (no
    // deadlock); n breaks ties, so of two requests with one key in a batch the earlier is inserted and
    // ON CONFLICT DO NOTHING skips the later, like a second request arriving after the first committed.
    private static readonly string AcceptSql = $"""
        WITH inserted AS (
            INSERT INTO orders (order_id, user_id, idempotency_key, request_hash, items, amount, currency, created_at)
            SELECT order_id, user_id, idempotency_key, request_hash, items::jsonb, amount, currency, created_at
            FROM unnest(@OrderIds, @UserIds, @IdempotencyKeys, @RequestHashes, @Items, @Amounts, @Currencies, @CreatedAts) WITH ORDINALITY
                 AS r(order_id, user_id, idempotency_key, request_hash, items, amount, currency, created_at, n)
            ORDER BY user_id, idempotency_key, n
            ON CONFLICT (user_id, idempotency_key) DO NOTHING
            RETURNING order_id
        ), created AS (
            {Outbox.InsertSql("msg_key::uuid IN (SELECT order_id FROM inserted)")}
        )
        SELECT order_id FROM inserted
        """;

    // The "= ANY" conditions keep the prepared (generic) plan on the unique index instead of a hash join
    // over the whole table. Runs after the insert has committed, for the orders it skipped: each conflicting
    // row is committed by then (an earlier request of the same batch, or one the insert waited for).
    private const string ExistingSql = """
        SELECT user_id, idempotency_key, order_id, request_hash FROM orders
        WHERE user_id = ANY(@UserIds) AND idempotency_key = ANY(@IdempotencyKeys)
          AND (user_id, idempotency_key) IN (SELECT * FROM unnest(@UserIds, @IdempotencyKeys))
        """;

    /// <summary>An accepted order as a PENDING view (before the materializer has one).</summary>
    public static OrderView PendingView(Guid orderId, string userId, IReadOnlyList<OrderLine> items, decimal amount, string currency, DateTimeOffset createdAt) =>
        new(orderId, OrderStatus.Pending, null, userId, items, amount, currency, createdAt, createdAt, null, []);

    /// <summary>
    /// Writes <paramref name="orders"/>, each new one with its order.created outbox row, in one statement
    /// (one transaction, one round trip whatever the number of orders); a key already used answers with its
    /// order, read afterwards. Outcomes follow the list's order; call <see cref="OutboxSignal.Notify"/> after.
    /// </summary>
    public static async Task<List<(AcceptOutcome Outcome, Guid OrderId)>> AcceptAsync(NpgsqlConnection conn, IReadOnlyList<NewOrder> orders, CancellationToken ct)
    {
        var parameters = Outbox.Parameters(orders.Select(o => o.Created).ToList());
        parameters.AddDynamicParams(new
        {
            OrderIds = orders.Select(o => o.OrderId).ToArray(),
            UserIds = orders.Select(o => o.Order.UserId).ToArray(),
            IdempotencyKeys = orders.Select(o => o.IdempotencyKey).ToArray(),
            RequestHashes = orders.Select(o => o.RequestHash).ToArray(),
            Items = orders.Select(o => o.ItemsJson).ToArray(),
            Amounts = orders.Select(o => o.Order.Amount).ToArray(),
            Currencies = orders.Select(o => o.Order.Currency).ToArray(),
            CreatedAts = orders.Select(o => o.CreatedAt).ToArray(),
        });
        var inserted = (await conn.QueryAsync<Guid>(new CommandDefinition(AcceptSql, parameters, cancellationToken: ct))).ToHashSet();

        // Only a key can conflict (order ids are fresh v7 uuids), so every skipped order has one.
        var skipped = orders.Where(o => !inserted.Contains(o.OrderId)).ToList();
        var existing = new Dictionary<(string, string), (Guid OrderId, byte[] RequestHash)>();
        if (skipped.Count > 0)
        {
            var rows = await conn.QueryAsync<(string UserId, string IdempotencyKey, Guid OrderId, byte[] RequestHash)>(new CommandDefinition(ExistingSql, new
            {
                UserIds = skipped.Select(o => o.Order.UserId).ToArray(),
                IdempotencyKeys = skipped.Select(o => o.IdempotencyKey!).ToArray(),
            }, cancellationToken: ct));
            foreach (var row in rows) existing[(row.UserId, row.IdempotencyKey)] = (row.OrderId, row.RequestHash);
        }

        return orders.Select(o =>
        {
            if (inserted.Contains(o.OrderId)) return (AcceptOutcome.Created, o.OrderId);
            var (orderId, hash) = existing[(o.Order.UserId, o.IdempotencyKey!)];
            return (o.RequestHash.AsSpan().SequenceEqual(hash) ? AcceptOutcome.Replayed : AcceptOutcome.KeyReusedWithDifferentBody, orderId);
        }).ToList();
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

    // Runs after a conflict, or after the lock found a request: the other request has committed by then.
    private const string CancellationSql = "SELECT reason AS Reason, requested_at AS RequestedAt FROM order_cancellations WHERE order_id = @OrderId";

    /// <summary>What a cancel request came to: recorded (or the first one's, for a repeat), or refused because a ship request holds the order.</summary>
    public sealed record CancelOutcome(Cancellation? Cancellation, ShipmentRequests.ShipRequest? ShipRequested);

    /// <summary>
    /// Records the cancel request and its order.cancel-requested event in one transaction; a second request
    /// for the order writes nothing and gets the first one back. Under the order's row lock, which a ship
    /// request takes too: an order a seller asked to ship is not cancelled (the goods may have left).
    /// </summary>
    public static async Task<CancelOutcome> RequestCancelAsync(NpgsqlDataSource db, OutboxSignal signal, Guid orderId, string? reason, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        if (await ShipmentRequests.LockAsync(tx, orderId, ct) is { Shipment: { } shipment, CancelRequested: false })
            return new CancelOutcome(null, shipment);
        var requestedAt = await conn.QuerySingleOrDefaultAsync<DateTime?>(
            new CommandDefinition(InsertCancellationSql, new { OrderId = orderId, Reason = reason }, tx, cancellationToken: ct));
        if (requestedAt is not { } at)
        {
            var existing = await conn.QuerySingleAsync<(string? Reason, DateTime RequestedAt)>(
                new CommandDefinition(CancellationSql, new { OrderId = orderId }, tx, cancellationToken: ct));
            return new CancelOutcome(new Cancellation(existing.Reason, Utc(existing.RequestedAt)), null);
        }
        var cancellation = new Cancellation(reason, Utc(at));
        await Outbox.WriteAsync(tx, [OutgoingEvent.For(new OrderCancelRequestedV1(orderId, reason, cancellation.RequestedAt))], causationId: null, ct);
        await tx.CommitAsync(ct);
        signal.Notify();
        return new CancelOutcome(cancellation, null);
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
