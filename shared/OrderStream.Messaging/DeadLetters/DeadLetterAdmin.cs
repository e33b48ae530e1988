using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using OrderStream.Contracts;

namespace OrderStream.Messaging.DeadLetters;

/// <summary>
/// Dead-letter administration: list the dead letters of a topic, redrive them to the topic they came
/// from once the cause is fixed, purge them. Redrive is idempotent per dead letter (the service's
/// database records each one redriven), and a redrive stopped half-way loses nothing: dead letters stay
/// in their topic, and the next redrive publishes those not recorded yet. Kafka is read with blocking
/// calls: callers with a time budget run these on a thread of their own.
/// </summary>
public sealed class DeadLetterAdmin(DeadLetterKafka kafka, NpgsqlDataSource db, ILogger<DeadLetterAdmin> logger)
{
    private const int RedriveBatch = 100;

    /// <summary>
    /// A saga topic or its dead-letter topic, as (dead-letter topic, original topic). Only those: a
    /// redrive publishes to the topic named by the dead-letter topic, never to one named in a header.
    /// </summary>
    public static (string Dlq, string Original)? Resolve(string? topic) => topic switch
    {
        null => null,
        _ when Topics.All.Contains(topic) => (Topics.DeadLetter(topic), topic),
        _ when Topics.All.FirstOrDefault(t => Topics.DeadLetter(t) == topic) is { } original => (topic, original),
        _ => null,
    };

    /// <summary>Every dead-letter topic with its counts.</summary>
    public async Task<IReadOnlyList<DeadLetterTopicSummary>> SummariesAsync(CancellationToken ct)
    {
        using var reader = kafka.OpenReader();
        var summaries = new List<DeadLetterTopicSummary>();
        foreach (var original in Topics.All)
        {
            var (_, messages, redriven) = await CountAsync(reader, Topics.DeadLetter(original), ct);
            summaries.Add(new DeadLetterTopicSummary(Topics.DeadLetter(original), original, messages, redriven, messages - redriven));
        }
        return summaries;
    }

    /// <summary>Up to <paramref name="limit"/> dead letters of <paramref name="dlq"/>, oldest first per partition; only those not redriven yet if <paramref name="waitingOnly"/>.</summary>
    public async Task<DeadLetterListing> ListAsync(string dlq, string originalTopic, int limit, bool waitingOnly, CancellationToken ct)
    {
        using var reader = kafka.OpenReader();
        var (ranges, count, redrivenCount) = await CountAsync(reader, dlq, ct);
        var items = new List<DeadLetterItem>();
        var more = await CollectAsync();
        return new DeadLetterListing(dlq, originalTopic, count, redrivenCount, count - redrivenCount, items, more);

        async Task<bool> CollectAsync()
        {
            foreach (var range in ranges)
            foreach (var chunk in reader.Read(dlq, range.Partition, range.Low, range.High, ct).Chunk(RedriveBatch))
            {
                var redrivenAt = await DeadLetterStore.RedrivenAsync(db, dlq, range.Partition, chunk.Select(l => l.Offset), ct);
                foreach (var letter in chunk)
                {
                    DateTimeOffset? at = redrivenAt.TryGetValue(letter.Offset, out var t) ? new DateTimeOffset(t, TimeSpan.Zero) : null;
                    if (waitingOnly && at is not null) continue;
                    if (items.Count == limit) return true;
                    items.Add(DeadLetterItem.Describe(letter, at));
                }
            }
            return false;
        }
    }

    /// <summary>Republishes the dead letter at <paramref name="partition"/> and <paramref name="offset"/>, unless redriven before; null when there is none there.</summary>
    public async Task<DeadLetterRedriveResult?> RedriveOneAsync(string dlq, string originalTopic, int partition, long offset, CancellationToken ct)
    {
        using var reader = kafka.OpenReader();
        var (ranges, _, _) = await CountAsync(reader, dlq, ct);
        var letter = ranges.Where(r => r.Partition == partition && offset >= r.Low && offset < r.High)
            .SelectMany(r => reader.Read(dlq, partition, offset, offset + 1, ct)).FirstOrDefault(l => l.Offset == offset);
        if (letter is null) return null;
        var (published, already) = await RedriveBatchAsync(dlq, originalTopic, [letter], ct);
        return Redriven(dlq, originalTopic, published, already);
    }

    /// <summary>Republishes the dead letters of <paramref name="dlq"/> (at most <paramref name="limit"/>); those redriven before are skipped.</summary>
    public async Task<DeadLetterRedriveResult> RedriveAllAsync(string dlq, string originalTopic, int? limit, CancellationToken ct)
    {
        using var reader = kafka.OpenReader();
        // The high watermarks read now bound this redrive: a redriven message that fails again comes back
        // as a new dead letter past them, and waits for the next redrive instead of looping.
        var (ranges, _, _) = await CountAsync(reader, dlq, ct);
        var (published, already) = (0, 0);
        var budget = limit ?? int.MaxValue;
        foreach (var range in ranges)
        {
            using var letters = reader.Read(dlq, range.Partition, range.Low, range.High, ct).GetEnumerator();
            while (published < budget)
            {
                var batch = new List<DeadLetter>(RedriveBatch);
                while (batch.Count < Math.Min(RedriveBatch, budget - published) && letters.MoveNext()) batch.Add(letters.Current);
                if (batch.Count == 0) break;
                var (p, a) = await RedriveBatchAsync(dlq, originalTopic, batch, ct);
                (published, already) = (published + p, already + a);
            }
        }
        return Redriven(dlq, originalTopic, published, already);
    }

    private DeadLetterRedriveResult Redriven(string dlq, string originalTopic, int published, int already)
    {
        logger.LogInformation("Redrove {Published} dead letters of {Topic} to {OriginalTopic} ({AlreadyRedriven} redriven before)", published, dlq, originalTopic, already);
        return new DeadLetterRedriveResult(dlq, originalTopic, published, already);
    }

    /// <summary>
    /// Claims the batch's dead letters in the database, publishes those not claimed before, and commits
    /// once the broker has acknowledged them all. Stopped before the commit (a crash, a cancelled request,
    /// a broker error), nothing is recorded and the next redrive publishes them again: harmless, since
    /// they keep their event ids and every consumer's inbox applies an event at most once. Each dead
    /// letter stays in its topic either way.
    /// </summary>
    private async Task<(int Published, int Already)> RedriveBatchAsync(string dlq, string originalTopic, IReadOnlyList<DeadLetter> batch, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var fresh = await DeadLetterStore.ClaimAsync(tx, dlq, originalTopic, batch, ct);
        // Produced in dead-letter order: the idempotent producer keeps that order per partition.
        await Task.WhenAll(batch.Where(l => fresh.Contains((l.Partition, l.Offset))).Select(l => kafka.RepublishAsync(originalTopic, l, ct)));
        // Acknowledged by the broker: record it even if the caller has gone meanwhile.
        await tx.CommitAsync(CancellationToken.None);
        return (fresh.Count, batch.Count - fresh.Count);
    }

    /// <summary>
    /// Removes every dead letter of the topic up to its current end. The purge mark is recorded first, so
    /// the dead letters are gone from the list and from redrives even where the broker does not serve
    /// DeleteRecords (the embedded cluster).
    /// </summary>
    public async Task<DeadLetterPurgeResult> PurgeAsync(string dlq, string originalTopic, CancellationToken ct)
    {
        using var reader = kafka.OpenReader();
        var ends = reader.Ranges(dlq);
        var visible = await DeadLetterStore.VisibleAsync(db, dlq, ends, ct);
        await DeadLetterStore.MarkPurgedAsync(db, dlq, ends, ct);
        var brokerError = await kafka.DeleteRecordsAsync(dlq, ends.Where(e => e.High > e.Low).Select(e => (e.Partition, e.High)));
        var purged = visible.Sum(v => v.High - v.Low);
        logger.LogWarning("Purged {Purged} dead letters of {Topic} (deleted on the broker: {Deleted} {BrokerError})", purged, dlq, brokerError is null, brokerError);
        return new DeadLetterPurgeResult(dlq, originalTopic, purged, brokerError is null, brokerError);
    }

    private async Task<(IReadOnlyList<PartitionRange> Visible, long Messages, long Redriven)> CountAsync(DeadLetterKafka.Reader reader, string dlq, CancellationToken ct)
    {
        var visible = await DeadLetterStore.VisibleAsync(db, dlq, reader.Ranges(dlq), ct);
        var messages = visible.Sum(v => v.High - v.Low);
        return (visible, messages, messages == 0 ? 0 : await DeadLetterStore.CountRedrivenAsync(db, dlq, visible, ct));
    }
}

public static class DeadLetterServiceCollectionExtensions
{
    /// <summary>
    /// Dead-letter administration (<see cref="DeadLetterAdmin"/>). It republishes with the outbox's
    /// producer, so the service calls <c>AddOutbox</c> too, and its database holds the redrive and purge
    /// tables.
    /// </summary>
    public static IServiceCollection AddDeadLetterAdmin(this IServiceCollection services)
    {
        services.AddSingleton<DeadLetterKafka>();
        services.AddSingleton<DeadLetterAdmin>();
        return services;
    }
}
