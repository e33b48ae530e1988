using Dapper;
using Npgsql;
using OrderStream.Contracts;
using OrderStream.Messaging;

namespace OrderStream.ApiGateway.Data;

/// <summary>
/// Ship requests (<c>order_shipments</c>), decided under the order's row lock, which a cancel request takes too
/// (<see cref="OrderStore.RequestCancelAsync"/>): ship and cancel of one order are serialized, and whichever
/// commits first decides the other's answer.
/// </summary>
public static class ShipmentRequests
{
    /// <summary>A ship request as recorded: who asked and when (the same answer for its repeats).</summary>
    public sealed record ShipRequest(string RequestedBy, DateTimeOffset RequestedAt);

    /// <summary>What the lock found: nothing (an unknown order), or the order with its cancel and ship requests.</summary>
    public sealed record Locked(bool CancelRequested, ShipRequest? Shipment);

    // Three statements in one round trip: the first takes the lock, and each read after it takes its own
    // snapshot once the lock is held, so it sees what a cancel or ship request that held the lock before
    // committed (one statement joining the tables would read them as they were before it waited).
    private const string LockSql = """
        SELECT count(*) FROM (SELECT 1 FROM orders WHERE order_id = @OrderId FOR UPDATE) AS locked;
        SELECT EXISTS (SELECT 1 FROM order_cancellations WHERE order_id = @OrderId);
        SELECT requested_by AS RequestedBy, requested_at AS RequestedAt FROM order_shipments WHERE order_id = @OrderId;
        """;

    private sealed record ShipRow(string RequestedBy, DateTime RequestedAt);

    /// <summary>Locks the order's row until <paramref name="tx"/> ends; null for an order this gateway never accepted.</summary>
    public static async Task<Locked?> LockAsync(NpgsqlTransaction tx, Guid orderId, CancellationToken ct)
    {
        await using var results = await tx.Connection!.QueryMultipleAsync(new CommandDefinition(LockSql, new { OrderId = orderId }, tx, cancellationToken: ct));
        var found = await results.ReadSingleAsync<long>();
        var cancelled = await results.ReadSingleAsync<bool>();
        var shipment = await results.ReadSingleOrDefaultAsync<ShipRow>();
        if (found == 0) return null;
        return new Locked(cancelled, shipment is null ? null : new ShipRequest(shipment.RequestedBy, Utc(shipment.RequestedAt)));
    }

    private const string InsertSql = """
        INSERT INTO order_shipments (order_id, requested_by) VALUES (@OrderId, @RequestedBy) RETURNING requested_at
        """;

    /// <summary>
    /// Records the ship request and its order.ship-requested event in <paramref name="tx"/>, which holds the order's lock
    /// and saw no request yet; the caller commits and signals the relay.
    /// </summary>
    public static async Task<ShipRequest> RequestAsync(NpgsqlTransaction tx, Guid orderId, string requestedBy, CancellationToken ct)
    {
        var at = Utc(await tx.Connection!.QuerySingleAsync<DateTime>(
            new CommandDefinition(InsertSql, new { OrderId = orderId, RequestedBy = requestedBy }, tx, cancellationToken: ct)));
        await Outbox.WriteAsync(tx, [OutgoingEvent.For(new OrderShipRequestedV1(orderId, requestedBy, at))], causationId: null, ct);
        return new ShipRequest(requestedBy, at);
    }

    private static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));
}
