using System.ComponentModel.DataAnnotations;
using System.Diagnostics.Metrics;
using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace OrderStream.Messaging;

/// <summary>How long processed-event and sent-event records are kept, bound from the <c>Retention</c> section (<c>Retention__Inbox=7.00:00:00</c>).</summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>
    /// How long an inbox row (a processed event id) is kept. A redelivery older than this would be applied
    /// again, so it must cover any realistic redelivery: a consumer down for a long weekend, a replay of a
    /// topic, a dead letter redriven after a fix. Days, not minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")] public TimeSpan Inbox { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long a sent outbox row is kept (for audit and the checker); unsent rows are never pruned.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "3650.00:00:00")] public TimeSpan Outbox { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How often the pruner runs.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")] public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Rows deleted per statement: each batch is its own short transaction, so pruning never holds long locks.</summary>
    [Range(1, 100_000)] public int BatchSize { get; set; } = 1_000;
}

/// <summary>
/// Keeps the inbox and outbox tables bounded: deletes sent outbox rows and inbox rows older than their
/// retention, oldest first, one small batch per statement until none are left, then sleeps for
/// <see cref="RetentionOptions.Interval"/>. Rows another instance is deleting are skipped, not waited for.
/// </summary>
public sealed partial class RetentionPruner(NpgsqlDataSource db, IOptions<RetentionOptions> options, ILogger<RetentionPruner> logger) : BackgroundService
{
    private const string PruneOutboxSql = """
        DELETE FROM outbox WHERE id IN (
            SELECT id FROM outbox WHERE sent_at < now() - @Age ORDER BY sent_at LIMIT @Batch FOR UPDATE SKIP LOCKED)
        """;

    private const string PruneInboxSql = """
        DELETE FROM inbox WHERE (consumer, event_id) IN (
            SELECT consumer, event_id FROM inbox WHERE processed_at < now() - @Age ORDER BY processed_at LIMIT @Batch FOR UPDATE SKIP LOCKED)
        """;

    private static readonly Counter<long> Pruned = MessagingTelemetry.Meter.CreateCounter<long>(
        "orderstream.retention.pruned", "{row}", "Inbox and sent outbox rows deleted after their retention");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var outbox = await PruneAsync("outbox", PruneOutboxSql, settings.Outbox, settings.BatchSize, stoppingToken);
                var inbox = await PruneAsync("inbox", PruneInboxSql, settings.Inbox, settings.BatchSize, stoppingToken);
                if (outbox + inbox > 0) LogPruned(outbox, inbox);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (Transient.IsTransient(ex))
            {
                // The database is down: nothing to prune until it is back; the next round tries again.
                LogPruneFailed(ex);
            }
            try { await Task.Delay(settings.Interval, stoppingToken); }
            catch (OperationCanceledException) { return; }
        }
    }

    private async Task<long> PruneAsync(string table, string sql, TimeSpan age, int batch, CancellationToken ct)
    {
        long total = 0;
        int deleted;
        do
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            deleted = await conn.ExecuteAsync(new CommandDefinition(sql, new { Age = age, Batch = batch }, cancellationToken: ct));
            total += deleted;
        }
        while (deleted == batch && !ct.IsCancellationRequested);
        Pruned.Add(total, new KeyValuePair<string, object?>("table", table)); // 0 too: the series is there from the first round
        return total;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Retention: pruned {Outbox} sent outbox rows and {Inbox} inbox rows")]
    private partial void LogPruned(long outbox, long inbox);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Retention pruning failed; retrying next round")]
    private partial void LogPruneFailed(Exception ex);
}
