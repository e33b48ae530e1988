using Dapper;
using Npgsql;

namespace OrderStream.Messaging.DeadLetters;

/// <summary>
/// What the admin remembers of dead letters, in its service's database (tables <c>dead_letter_redrives</c>
/// and <c>dead_letter_purges</c>, the gateway's migration 003): which were redriven, and where each
/// partition was purged.
/// </summary>
internal static class DeadLetterStore
{
    private const string PurgeMarksSql = """
        SELECT dlq_partition, purged_below FROM dead_letter_purges WHERE dlq_topic = @Topic
        """;

    /// <summary>Where each partition's dead letters start for an operator: the broker's low watermark, or the purge mark above it.</summary>
    public static async Task<IReadOnlyList<PartitionRange>> VisibleAsync(NpgsqlDataSource db, string topic, IReadOnlyList<PartitionRange> ranges, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var marks = (await conn.QueryAsync<(int Partition, long Below)>(new CommandDefinition(PurgeMarksSql, new { Topic = topic }, cancellationToken: ct)))
            .ToDictionary(m => m.Partition, m => m.Below);
        return ranges.Select(r => r with { Low = Math.Min(r.High, Math.Max(r.Low, marks.GetValueOrDefault(r.Partition))) }).ToList();
    }

    private const string CountRedrivenSql = """
        SELECT count(*) FROM dead_letter_redrives r
        JOIN unnest(@Partitions, @Lows, @Highs) AS v(p, low, high) ON r.dlq_partition = v.p AND r.dlq_offset >= v.low AND r.dlq_offset < v.high
        WHERE r.dlq_topic = @Topic
        """;

    public static async Task<long> CountRedrivenAsync(NpgsqlDataSource db, string topic, IReadOnlyList<PartitionRange> visible, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(CountRedrivenSql, new
        {
            Topic = topic,
            Partitions = visible.Select(v => v.Partition).ToArray(),
            Lows = visible.Select(v => v.Low).ToArray(),
            Highs = visible.Select(v => v.High).ToArray(),
        }, cancellationToken: ct));
    }

    private const string RedrivenSql = """
        SELECT dlq_offset, redriven_at FROM dead_letter_redrives
        WHERE dlq_topic = @Topic AND dlq_partition = @Partition AND dlq_offset = ANY(@Offsets)
        """;

    /// <summary>When each of the given dead letters (one partition) was redriven, for those that were.</summary>
    public static async Task<Dictionary<long, DateTime>> RedrivenAsync(NpgsqlDataSource db, string topic, int partition, IEnumerable<long> offsets, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<(long Offset, DateTime At)>(new CommandDefinition(RedrivenSql,
                new { Topic = topic, Partition = partition, Offsets = offsets.ToArray() }, cancellationToken: ct)))
            .ToDictionary(r => r.Offset, r => r.At);
    }

    // A concurrent redrive of the same dead letter waits on the first one's uncommitted row, then finds it
    // taken (or free again, if the first rolled back): two redrives never both publish it.
    private const string ClaimSql = """
        INSERT INTO dead_letter_redrives (dlq_topic, dlq_partition, dlq_offset, original_topic, event_id)
        SELECT @Topic, l.p, l.o, @OriginalTopic, l.e FROM unnest(@Partitions, @Offsets, @EventIds) AS l(p, o, e)
        ON CONFLICT DO NOTHING
        RETURNING dlq_partition, dlq_offset
        """;

    /// <summary>
    /// Records the dead letters as redriven, inside <paramref name="tx"/>, and returns those not recorded
    /// before. The caller publishes exactly those, and commits only after the broker acknowledged them.
    /// </summary>
    public static async Task<HashSet<(int Partition, long Offset)>> ClaimAsync(NpgsqlTransaction tx, string topic, string originalTopic, IReadOnlyList<DeadLetter> letters, CancellationToken ct)
    {
        var claimed = await tx.Connection!.QueryAsync<(int, long)>(new CommandDefinition(ClaimSql, new
        {
            Topic = topic,
            OriginalTopic = originalTopic,
            Partitions = letters.Select(l => l.Partition).ToArray(),
            Offsets = letters.Select(l => l.Offset).ToArray(),
            EventIds = letters.Select(l => l.Header(Contracts.Headers.EventId)).ToArray(),
        }, tx, cancellationToken: ct));
        return claimed.ToHashSet();
    }

    // Redrive rows below the mark can never be consulted again, so they go with the purge: the table
    // stays bounded by what is still visible.
    private const string PurgeSql = """
        INSERT INTO dead_letter_purges (dlq_topic, dlq_partition, purged_below)
        SELECT @Topic, m.p, m.below FROM unnest(@Partitions, @Belows) AS m(p, below)
        ON CONFLICT (dlq_topic, dlq_partition)
        DO UPDATE SET purged_below = GREATEST(dead_letter_purges.purged_below, EXCLUDED.purged_below), purged_at = now();
        DELETE FROM dead_letter_redrives r USING unnest(@Partitions, @Belows) AS m(p, below)
        WHERE r.dlq_topic = @Topic AND r.dlq_partition = m.p AND r.dlq_offset < m.below;
        """;

    public static async Task MarkPurgedAsync(NpgsqlDataSource db, string topic, IReadOnlyList<PartitionRange> ranges, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(PurgeSql, new
        {
            Topic = topic,
            Partitions = ranges.Select(r => r.Partition).ToArray(),
            Belows = ranges.Select(r => r.High).ToArray(),
        }, tx, cancellationToken: ct));
        await tx.CommitAsync(ct);
    }
}
