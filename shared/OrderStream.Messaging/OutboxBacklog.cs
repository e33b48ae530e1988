using Dapper;
using Npgsql;

namespace OrderStream.Messaging;

/// <summary>The outbox's unpublished rows, measured by the relay every few seconds: its depth and oldest-age gauges.</summary>
internal sealed class OutboxBacklog(NpgsqlDataSource db)
{
    private const string BacklogSql = """
        SELECT count(*) AS Depth, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS OldestAgeSeconds
        FROM outbox WHERE sent_at IS NULL
        """;

    private sealed record Backlog(long Depth, double OldestAgeSeconds);

    private volatile Backlog _backlog = new(0, 0);
    private long _measuredAt;

    public long Depth => _backlog.Depth;

    public void RegisterMetrics()
    {
        MessagingTelemetry.Meter.CreateObservableGauge("orderstream.outbox.depth", () => _backlog.Depth, "{event}", "Outbox rows not yet published");
        MessagingTelemetry.Meter.CreateObservableGauge("orderstream.outbox.oldest_unsent_age", () => _backlog.OldestAgeSeconds, "s", "Age of the oldest unpublished outbox row");
        MessagingTelemetry.Unconfirmed.Add(0);
    }

    // Measured every few seconds, not per batch, so the metric costs one indexed query now and then.
    public void Measure()
    {
        if (Environment.TickCount64 - _measuredAt < 5_000) return;
        _measuredAt = Environment.TickCount64;
        using var conn = db.OpenConnection();
        _backlog = conn.QuerySingle<Backlog>(BacklogSql);
    }
}
