using System.Text.Json;
using Dapper;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.Fulfilment.Domain;

namespace OrderStream.Fulfilment.Data;

/// <summary>Shipments, locked, loaded and written back a consumer transaction's orders at a time.</summary>
public static class ShipmentStore
{
    // A transaction-scoped advisory lock per order: the sale and the ship request come on two topics (so two
    // partitions, perhaps two instances) and, handled at once, would each see the other missing and neither
    // dispatch. Taken in key order, so two batches sharing orders wait instead of deadlocking. The read is a
    // separate statement of the same round trip, so its snapshot is taken after the locks are held.
    private const string LoadSql = """
        SELECT count(pg_advisory_xact_lock(k)) FROM (
            SELECT DISTINCT hashtextextended(id::text, 0) AS k FROM unnest(@OrderIds) AS id ORDER BY k) AS keys;
        SELECT order_id AS OrderId, status AS Status, items::text AS Items, requested_by AS RequestedBy, requested_at AS RequestedAt,
               shipment_id AS ShipmentId, dispatched_at AS DispatchedAt
        FROM shipments WHERE order_id = ANY(@OrderIds);
        """;

    private sealed record Row(Guid OrderId, string Status, string? Items, string? RequestedBy, DateTime? RequestedAt, Guid? ShipmentId, DateTime? DispatchedAt);

    public static async Task<ShipmentBook> LoadAsync(NpgsqlTransaction tx, IEnumerable<Guid> orderIds, CancellationToken ct)
    {
        var ids = orderIds.Distinct().ToArray();
        await using var results = await tx.Connection!.QueryMultipleAsync(new CommandDefinition(LoadSql, new { OrderIds = ids }, tx, cancellationToken: ct));
        await results.ReadSingleAsync<long>();
        var rows = await results.ReadAsync<Row>();
        return new ShipmentBook(rows.Select(r => new ShipmentRecord(r.OrderId, r.Status,
            r.Items is null ? null : JsonSerializer.Deserialize<List<SkuQuantity>>(r.Items, EventJson.Options),
            r.RequestedBy, Utc(r.RequestedAt), r.ShipmentId, Utc(r.DispatchedAt))));
    }

    // The rows travel as one JSON array: one round trip whatever the batch, and nullable columns without the
    // null-array limits of the driver. A DISPATCHED row is never changed: the count check below turns an attempt
    // (which would be a second dispatch) into a failed transaction instead of a second shipment.
    private const string SaveSql = $$"""
        INSERT INTO shipments AS s (order_id, status, items, requested_by, requested_at, shipment_id, dispatched_at)
        SELECT r.order_id, r.status, r.items, r.requested_by, r.requested_at, r.shipment_id, r.dispatched_at
        FROM jsonb_to_recordset(@Rows::jsonb) AS r(order_id uuid, status text, items jsonb, requested_by text, requested_at timestamptz,
                                                   shipment_id uuid, dispatched_at timestamptz)
        ORDER BY r.order_id
        ON CONFLICT (order_id) DO UPDATE SET
            status = EXCLUDED.status, items = EXCLUDED.items, requested_by = EXCLUDED.requested_by, requested_at = EXCLUDED.requested_at,
            shipment_id = EXCLUDED.shipment_id, dispatched_at = EXCLUDED.dispatched_at, updated_at = now()
        WHERE s.status <> '{{ShipmentStatus.Dispatched}}'
        """;

    public static async Task SaveAsync(NpgsqlTransaction tx, IReadOnlyList<ShipmentRecord> changed, CancellationToken ct)
    {
        if (changed.Count == 0) return;
        // The items keep the events' own shape (camelCase), as the load reads them.
        var rows = changed.Select(s => new
        {
            order_id = s.OrderId, status = s.Status,
            items = s.Items is null ? null : JsonSerializer.SerializeToElement(s.Items, EventJson.Options) as JsonElement?,
            requested_by = s.RequestedBy, requested_at = s.RequestedAt, shipment_id = s.ShipmentId, dispatched_at = s.DispatchedAt,
        });
        var written = await tx.Connection!.ExecuteAsync(new CommandDefinition(SaveSql, new { Rows = JsonSerializer.Serialize(rows) }, tx, cancellationToken: ct));
        if (written != changed.Count)
            throw new InvalidOperationException($"Shipment batch wrote {written} rows, expected {changed.Count}: a dispatched shipment would have changed");
    }

    private static DateTimeOffset? Utc(DateTime? value) => value is { } v ? new DateTimeOffset(DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;
}
