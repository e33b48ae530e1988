using Dapper;
using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.Checker;

// What the checker reads from the services' databases. Order ids are kept as text (uuid::text), the form
// outbox keys already have, so rows of different databases join without parsing.

public sealed record IdempotencyKeyCount(string UserId, string Key, long Orders);

/// <summary>How many outbox rows <paramref name="Service"/> holds for one order on one saga topic.</summary>
public sealed record OutboxEventCount(ServiceSpec Service, string OrderId, string Topic, long Count);

public sealed record StockRow(string Sku, long Available, long Reserved, long Sold, long Received);

public sealed record ReservationRow(string OrderId, string Sku, int Qty, string Status);

/// <summary>A payment decision and the amount it was for (null in hand-made books that do not care).</summary>
public sealed record PaymentRow(string OrderId, string Status, decimal? Amount = null, string? Currency = null);

/// <summary>What inventory holds for an order (<c>inventory_orders</c>): its status and, once closed, why (SAGA_TIMEOUT, CANCELLED, ...).</summary>
public sealed record InventoryOrderRow(string OrderId, string Status, string? Reason);

/// <summary>An order_view row: the status and the facts it was derived from, and the amount it shows.</summary>
public sealed record ViewRow(string OrderId, string Status, string? Reason, bool SeenReserved, string? InventoryFailure, bool SeenAuthorized, string? PaymentFailure,
    string? ReleaseReason = null, bool SeenSold = false, bool SeenReturned = false, decimal? Amount = null, string? Currency = null);

/// <summary>Fulfilment's shipment of an order (<c>shipments</c>): AWAITING, REQUESTED, DISPATCHED or CANCELLED.</summary>
public sealed record ShipmentRow(string OrderId, string Status);

/// <summary>How many timeline rows of one event type an order has in the view.</summary>
public sealed record TimelineCount(string OrderId, string Type, long Count);

public sealed record SkuTotal(string Sku, long Qty);

/// <summary>
/// One service's outbox. Waits are <c>sent_at - created_at</c> of the rows sent so far: the worst and
/// the 99th percentile time an event spent in the outbox.
/// </summary>
public sealed record OutboxStats(ServiceSpec Service, long Unsent, long Sent, double OldestUnsentSeconds, double MaxWaitSeconds, double P99WaitSeconds);

public sealed record InboxCount(ServiceSpec Service, string Consumer, string Topic, long Count);

/// <summary>Time from accepted to settled (the view's <c>settled_at - created_at</c>) over the settled orders.</summary>
public sealed record SettleTimes(long Settled, double MaxSeconds, double P99Seconds);

/// <summary>Everything the checker read from the services' databases.</summary>
public sealed record Books
{
    public IReadOnlyList<string> AcceptedOrders { get; init; } = [];
    public IReadOnlyList<IdempotencyKeyCount> RepeatedIdempotencyKeys { get; init; } = [];
    public IReadOnlyList<OutboxEventCount> OutboxEvents { get; init; } = [];
    public IReadOnlyList<StockRow> Stock { get; init; } = [];
    public IReadOnlyList<ReservationRow> Reservations { get; init; } = [];
    public IReadOnlyList<InventoryOrderRow> InventoryOrders { get; init; } = [];
    public IReadOnlyList<PaymentRow> Payments { get; init; } = [];
    public IReadOnlyList<ViewRow> Views { get; init; } = [];
    public IReadOnlyList<TimelineCount> Timeline { get; init; } = [];
    public IReadOnlyList<SkuTotal> SoldByConfirmedOrders { get; init; } = [];
    /// <summary>Orders a seller asked to ship (the gateway's <c>order_shipments</c>).</summary>
    public IReadOnlyList<string> ShipRequests { get; init; } = [];
    /// <summary>Fulfilment's shipments.</summary>
    public IReadOnlyList<ShipmentRow> Shipments { get; init; } = [];
    public IReadOnlyList<OutboxStats> Outboxes { get; init; } = [];
    public IReadOnlyList<InboxCount> Inbox { get; init; } = [];
    public SettleTimes SettleTimes { get; init; } = new(0, 0, 0);
}

/// <summary>Reads <see cref="Books"/>: plain SQL, one read-only transaction per database.</summary>
public static class BooksReader
{
    private const string AcceptedOrdersSql = "SELECT order_id::text FROM orders";

    // The unique index makes this impossible for a non-null key; the check proves nobody dropped it.
    private const string RepeatedIdempotencyKeysSql = """
        SELECT user_id AS UserId, idempotency_key AS Key, count(*) AS Orders
        FROM orders WHERE idempotency_key IS NOT NULL
        GROUP BY user_id, idempotency_key HAVING count(*) > 1
        """;

    private const string OutboxEventsSql = """
        SELECT msg_key AS OrderId, topic AS Topic, count(*) AS Count
        FROM outbox WHERE topic = ANY(@Topics) GROUP BY msg_key, topic
        """;

    private const string StockSql = """
        SELECT s.sku AS Sku, s.available AS Available, s.reserved AS Reserved, s.sold AS Sold, COALESCE(r.received, 0)::bigint AS Received
        FROM stock s LEFT JOIN (SELECT sku, SUM(quantity) AS received FROM stock_receipts GROUP BY sku) r USING (sku)
        ORDER BY s.sku
        """;

    private const string ReservationsSql = "SELECT order_id::text AS OrderId, sku AS Sku, qty AS Qty, status AS Status FROM reservations";

    private const string InventoryOrdersSql = "SELECT order_id::text AS OrderId, status AS Status, reason AS Reason FROM inventory_orders";

    private const string PaymentsSql = "SELECT order_id::text AS OrderId, status AS Status, amount AS Amount, currency AS Currency FROM payments";

    private const string ViewsSql = """
        SELECT order_id::text AS OrderId, status AS Status, reason AS Reason, seen_reserved AS SeenReserved,
               inventory_failure AS InventoryFailure, seen_authorized AS SeenAuthorized, payment_failure AS PaymentFailure,
               release_reason AS ReleaseReason, seen_sold AS SeenSold, seen_returned AS SeenReturned, amount AS Amount, currency AS Currency
        FROM order_view
        """;

    private const string TimelineSql = """
        SELECT order_id::text AS OrderId, type AS Type, count(*) AS Count FROM order_timeline GROUP BY order_id, type
        """;

    // The view's items are what the customer ordered; lines of one SKU are summed like inventory merges them. A SHIPPED
    // order stays sold: its goods left through fulfilment, not back into stock.
    private const string SoldByConfirmedOrdersSql = """
        SELECT l.sku AS Sku, SUM(l.qty)::bigint AS Qty
        FROM order_view v CROSS JOIN LATERAL jsonb_to_recordset(v.items) AS l(sku text, qty int)
        WHERE v.status = ANY(@Sold)
        GROUP BY l.sku
        """;

    private const string ShipRequestsSql = "SELECT order_id::text FROM order_shipments";

    private const string ShipmentsSql = "SELECT order_id::text AS OrderId, status AS Status FROM shipments";

    private const string SettleTimesSql = """
        SELECT count(*) AS Settled,
               COALESCE(max(EXTRACT(EPOCH FROM settled_at - created_at)::float8), 0) AS MaxSeconds,
               COALESCE(percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM settled_at - created_at)::float8), 0) AS P99Seconds
        FROM order_view WHERE settled_at IS NOT NULL AND created_at IS NOT NULL
        """;

    // created_at is the writing transaction's start and sent_at the relay's, so a wait is how long an
    // event sat in the outbox. The peak depth of a run is not in the table once the rows are sent.
    private const string OutboxStatsSql = """
        SELECT count(*) FILTER (WHERE sent_at IS NULL) AS Unsent,
               count(*) FILTER (WHERE sent_at IS NOT NULL) AS Sent,
               COALESCE(max(EXTRACT(EPOCH FROM now() - created_at)::float8) FILTER (WHERE sent_at IS NULL), 0) AS OldestUnsentSeconds,
               COALESCE(max(EXTRACT(EPOCH FROM sent_at - created_at)::float8), 0) AS MaxWaitSeconds,
               COALESCE(percentile_cont(0.99) WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM sent_at - created_at)::float8), 0) AS P99WaitSeconds
        FROM outbox
        """;

    private const string InboxSql = "SELECT consumer AS Consumer, topic AS Topic, count(*) AS Count FROM inbox GROUP BY consumer, topic";

    public static async Task<Books> ReadAsync(CheckOptions options, CancellationToken ct)
    {
        var gateway = ReadGatewayAsync(options.ConnectionString(Catalogue.ApiGateway), ct);
        var inventory = ReadInventoryAsync(options.ConnectionString(Catalogue.Inventory), ct);
        var payment = ReadPaymentAsync(options.ConnectionString(Catalogue.Payment), ct);
        var materializer = ReadMaterializerAsync(options.ConnectionString(Catalogue.OrderMaterializer), ct);
        var fulfilment = ReadFulfilmentAsync(options.ConnectionString(Catalogue.Fulfilment), ct);
        var outboxes = CheckedServices.All.Select(s => ReadOutboxAsync(s, options.ConnectionString(s), ct)).ToArray();
        await Task.WhenAll(gateway, inventory, payment, materializer, fulfilment, Task.WhenAll(outboxes));

        var g = gateway.Result;
        var i = inventory.Result;
        var p = payment.Result;
        var m = materializer.Result;
        return m with
        {
            AcceptedOrders = g.AcceptedOrders,
            RepeatedIdempotencyKeys = g.RepeatedIdempotencyKeys,
            ShipRequests = g.ShipRequests,
            Shipments = fulfilment.Result.Shipments,
            Stock = i.Stock,
            Reservations = i.Reservations,
            InventoryOrders = i.InventoryOrders,
            Payments = p.Payments,
            OutboxEvents = outboxes.SelectMany(o => o.Result.Events).ToList(),
            Outboxes = outboxes.Select(o => o.Result.Stats).ToList(),
            Inbox = outboxes.SelectMany(o => o.Result.Inbox).ToList(),
        };
    }

    private static async Task<T> InSnapshotAsync<T>(string connectionString, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> read, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        // One snapshot per database, so the rows of one service agree with each other.
        await using var tx = await conn.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        await conn.ExecuteAsync(new CommandDefinition("SET TRANSACTION READ ONLY", transaction: tx, cancellationToken: ct));
        return await read(conn, tx);
    }

    private static async Task<IReadOnlyList<T>> ListAsync<T>(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, CancellationToken ct, object? args = null) =>
        (await conn.QueryAsync<T>(new CommandDefinition(sql, args, tx, cancellationToken: ct))).AsList();

    private static Task<Books> ReadGatewayAsync(string cs, CancellationToken ct) => InSnapshotAsync(cs, async (conn, tx) => new Books
    {
        AcceptedOrders = await ListAsync<string>(conn, tx, AcceptedOrdersSql, ct),
        RepeatedIdempotencyKeys = await ListAsync<IdempotencyKeyCount>(conn, tx, RepeatedIdempotencyKeysSql, ct),
        ShipRequests = await ListAsync<string>(conn, tx, ShipRequestsSql, ct),
    }, ct);

    private static Task<Books> ReadFulfilmentAsync(string cs, CancellationToken ct) => InSnapshotAsync(cs, async (conn, tx) => new Books
    {
        Shipments = await ListAsync<ShipmentRow>(conn, tx, ShipmentsSql, ct),
    }, ct);

    private static Task<Books> ReadInventoryAsync(string cs, CancellationToken ct) => InSnapshotAsync(cs, async (conn, tx) => new Books
    {
        Stock = await ListAsync<StockRow>(conn, tx, StockSql, ct),
        Reservations = await ListAsync<ReservationRow>(conn, tx, ReservationsSql, ct),
        InventoryOrders = await ListAsync<InventoryOrderRow>(conn, tx, InventoryOrdersSql, ct),
    }, ct);

    private static Task<Books> ReadPaymentAsync(string cs, CancellationToken ct) => InSnapshotAsync(cs, async (conn, tx) => new Books
    {
        Payments = await ListAsync<PaymentRow>(conn, tx, PaymentsSql, ct),
    }, ct);

    private static Task<Books> ReadMaterializerAsync(string cs, CancellationToken ct) => InSnapshotAsync(cs, async (conn, tx) => new Books
    {
        Views = await ListAsync<ViewRow>(conn, tx, ViewsSql, ct),
        Timeline = await ListAsync<TimelineCount>(conn, tx, TimelineSql, ct),
        SoldByConfirmedOrders = await ListAsync<SkuTotal>(conn, tx, SoldByConfirmedOrdersSql, ct, new { Sold = new[] { OrderStatus.Confirmed, OrderStatus.Shipped } }),
        SettleTimes = await conn.QuerySingleAsync<SettleTimes>(new CommandDefinition(SettleTimesSql, transaction: tx, cancellationToken: ct)),
    }, ct);

    private sealed record OutboxRead(OutboxStats Stats, IReadOnlyList<OutboxEventCount> Events, IReadOnlyList<InboxCount> Inbox);

    private sealed record StatsRow(long Unsent, long Sent, double OldestUnsentSeconds, double MaxWaitSeconds, double P99WaitSeconds);

    private sealed record KeyTopicCount(string OrderId, string Topic, long Count);

    private sealed record ConsumerTopicCount(string Consumer, string Topic, long Count);

    private static Task<OutboxRead> ReadOutboxAsync(ServiceSpec service, string cs, CancellationToken ct) => InSnapshotAsync(cs, async (conn, tx) =>
    {
        var s = await conn.QuerySingleAsync<StatsRow>(new CommandDefinition(OutboxStatsSql, transaction: tx, cancellationToken: ct));
        var events = CheckedServices.DecisionTopics(service) is { Length: > 0 } topics
            ? await ListAsync<KeyTopicCount>(conn, tx, OutboxEventsSql, ct, new { Topics = topics })
            : [];
        var inbox = await ListAsync<ConsumerTopicCount>(conn, tx, InboxSql, ct);
        return new OutboxRead(
            new OutboxStats(service, s.Unsent, s.Sent, s.OldestUnsentSeconds, s.MaxWaitSeconds, s.P99WaitSeconds),
            events.Select(e => new OutboxEventCount(service, e.OrderId, e.Topic, e.Count)).ToList(),
            inbox.Select(c => new InboxCount(service, c.Consumer, c.Topic, c.Count)).ToList());
    }, ct);

    private const string QuietProbeSql = "SELECT count(*) FILTER (WHERE sent_at IS NULL) AS Unsent, count(*) AS Rows, COALESCE(max(id), 0) AS MaxId FROM outbox";

    /// <summary>One outbox's unsent rows, and (rows, max id) to tell whether anything was written since the last probe.</summary>
    public sealed record OutboxProbe(ServiceSpec Service, long Unsent, long Rows, long MaxId);

    public static async Task<IReadOnlyList<OutboxProbe>> ProbeOutboxesAsync(CheckOptions options, CancellationToken ct) =>
        await Task.WhenAll(CheckedServices.All.Select(async s =>
        {
            await using var conn = new NpgsqlConnection(options.ConnectionString(s));
            await conn.OpenAsync(ct);
            var row = await conn.QuerySingleAsync<(long Unsent, long Rows, long MaxId)>(new CommandDefinition(QuietProbeSql, cancellationToken: ct));
            return new OutboxProbe(s, row.Unsent, row.Rows, row.MaxId);
        }));
}
