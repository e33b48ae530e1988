using System.Text.Json;
using Dapper;
using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.OrderMaterializer.Data;

/// <summary>
/// Lists order views newest first with keyset pagination on (created_at, order_id): a page starts
/// strictly after the last row of the previous one, so orders arriving meanwhile (newer, at the front)
/// neither repeat nor push rows off a later page. Orders whose order.created event has not been folded
/// in yet have no created_at and are not listed until it is.
/// </summary>
public static class OrderListStore
{
    public sealed record Summary(Guid OrderId, string Status, string? Reason, string UserId, IReadOnlyList<OrderLine> Items, decimal Amount, string Currency,
        DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, DateTimeOffset? SettledAt);

    /// <summary>Where a page ends: the sort key of its last row.</summary>
    public sealed record Cursor(DateTime CreatedAt, Guid OrderId);

    private const string ListSql = """
        SELECT order_id AS OrderId, status, reason, user_id AS UserId, items::text AS Items, amount, currency,
               created_at AS CreatedAt, updated_at AS UpdatedAt, settled_at AS SettledAt
        FROM order_view
        WHERE created_at IS NOT NULL
          AND (@UserId::text IS NULL OR user_id = @UserId)
          AND (@Status::text IS NULL OR status = @Status)
          AND (@AfterCreatedAt::timestamptz IS NULL OR (created_at, order_id) < (@AfterCreatedAt, @AfterOrderId))
        ORDER BY created_at DESC, order_id DESC
        LIMIT @Take
        """;

    private sealed record Row(Guid OrderId, string Status, string? Reason, string UserId, string Items, decimal Amount, string Currency,
        DateTime CreatedAt, DateTime UpdatedAt, DateTime? SettledAt);

    /// <summary>Up to <paramref name="limit"/> orders after <paramref name="after"/>, and the cursor of the next page (null on the last).</summary>
    public static async Task<(IReadOnlyList<Summary> Items, Cursor? Next)> ListAsync(NpgsqlDataSource db, string? userId, string? status, int limit, Cursor? after, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        // One row more than asked tells whether there is a next page.
        var rows = (await conn.QueryAsync<Row>(new CommandDefinition(ListSql, new
        {
            UserId = userId, Status = status, Take = limit + 1,
            AfterCreatedAt = after is null ? (DateTime?)null : DateTime.SpecifyKind(after.CreatedAt, DateTimeKind.Utc),
            AfterOrderId = after?.OrderId ?? Guid.Empty,
        }, cancellationToken: ct))).AsList();
        var page = rows.Take(limit).ToList();
        var next = rows.Count > limit ? new Cursor(page[^1].CreatedAt, page[^1].OrderId) : null;
        return (page.Select(r => new Summary(r.OrderId, r.Status, r.Reason, r.UserId, JsonSerializer.Deserialize<List<OrderLine>>(r.Items, EventJson.Options)!,
            r.Amount, r.Currency, Utc(r.CreatedAt), Utc(r.UpdatedAt), r.SettledAt is { } s ? Utc(s) : null)).ToList(), next);
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
