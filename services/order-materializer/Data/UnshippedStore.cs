using Dapper;
using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.OrderMaterializer.Data;

/// <summary>
/// Confirmed orders not shipped within <c>Fulfilment__ShipWithin</c>: what an operator chases, as stuck orders are
/// for the saga. Counted from the confirmation (the view's settled_at); a ship request not dispatched yet still counts.
/// </summary>
public static class UnshippedStore
{
    public sealed record UnshippedOrder(Guid OrderId, string? UserId, DateTimeOffset ConfirmedAt, double AgeSeconds, bool ShipRequested);

    // The status is a constant spliced in, so PostgreSQL sees the literal the partial index order_view_unshipped is built on.
    private const string ListSql = $$"""
        SELECT order_id AS OrderId, user_id AS UserId, settled_at AS ConfirmedAt,
               EXTRACT(EPOCH FROM now() - settled_at)::float8 AS AgeSeconds, ship_requested AS ShipRequested
        FROM order_view
        WHERE status = '{{OrderStatus.Confirmed}}' AND settled_at <= now() - @OlderThan
        ORDER BY settled_at, order_id
        LIMIT @Limit
        """;

    private sealed record Row(Guid OrderId, string? UserId, DateTime ConfirmedAt, double AgeSeconds, bool ShipRequested);

    /// <summary>CONFIRMED orders confirmed longer than <paramref name="olderThan"/> ago, oldest first.</summary>
    public static async Task<IReadOnlyList<UnshippedOrder>> ListAsync(NpgsqlDataSource db, TimeSpan olderThan, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<Row>(new CommandDefinition(ListSql, new { OlderThan = olderThan, Limit = limit }, cancellationToken: ct));
        return rows.Select(r => new UnshippedOrder(r.OrderId, r.UserId, new DateTimeOffset(DateTime.SpecifyKind(r.ConfirmedAt, DateTimeKind.Utc)),
            r.AgeSeconds, r.ShipRequested)).ToList();
    }

    private const string CountSql = $$"""
        SELECT count(*) FROM order_view WHERE status = '{{OrderStatus.Confirmed}}' AND settled_at <= now() - @OlderThan
        """;

    public static async Task<long> CountAsync(NpgsqlDataSource db, TimeSpan olderThan, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleAsync<long>(new CommandDefinition(CountSql, new { OlderThan = olderThan }, cancellationToken: ct));
    }
}
