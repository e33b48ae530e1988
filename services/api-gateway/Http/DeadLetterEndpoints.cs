using System.Text;
using Npgsql;
using OrderStream.ApiGateway.Data;
using OrderStream.ApiGateway.DeadLetters;
using OrderStream.Contracts;
using OrderStream.Hosting.Admin;
using OrderStream.Messaging;

namespace OrderStream.ApiGateway.Http;

/// <summary>
/// <c>/admin/deadletters</c>: list the dead letters of a topic, redrive them to the topic they came from
/// once the cause is fixed, purge them. Redrive is idempotent per dead letter (the gateway's database
/// records each one redriven), and a redrive stopped half-way loses nothing: dead letters stay in their
/// topic, and the next redrive publishes those not recorded yet.
/// </summary>
public static class DeadLetterEndpoints
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 1_000;
    private const int RedriveBatch = 100;
    private const int PreviewBytes = 256;
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public sealed record TopicSummary(string Topic, string OriginalTopic, long Messages, long Redriven, long Waiting);

    public sealed record Item(
        string Topic, int Partition, long Offset, DateTimeOffset Timestamp, string? Key, string? EventId, string? EventType,
        string? OriginalTopic, int? OriginalPartition, long? OriginalOffset, string? ConsumerGroup,
        string? ErrorType, string? ErrorMessage, DateTimeOffset? FailedAt, int BodyBytes, string? BodyPreview, DateTimeOffset? RedrivenAt);

    public sealed record Listing(string Topic, string OriginalTopic, long Messages, long Redriven, long Waiting, IReadOnlyList<Item> Items, bool More);

    public sealed record RedriveResult(string Topic, string OriginalTopic, int Published, int AlreadyRedriven);

    public sealed record PurgeResult(string Topic, string OriginalTopic, long Purged, bool DeletedOnBroker, string? BrokerError);

    public static void MapDeadLetterEndpoints(this WebApplication app)
    {
        var admin = app.MapAdminGroup("deadletters");
        admin.MapGet("", ListAsync);
        admin.MapPost("/redrive", RedriveAsync);
        admin.MapPost("/purge", PurgeAsync);
    }

    /// <summary>Without a topic: every dead-letter topic with its counts. With one: its dead letters, oldest first per partition.</summary>
    private static async Task<IResult> ListAsync(string? topic, int? limit, bool? waiting, DeadLetterKafka kafka, NpgsqlDataSource db, CancellationToken ct)
    {
        if (topic is null) return Results.Ok(new { topics = await SummariesAsync(kafka, db, ct) });
        if (Resolve(topic) is not var (dlq, originalTopic)) return UnknownTopic();
        if (limit is < 1 or > MaxLimit) return Invalid("limit", $"must be from 1 to {MaxLimit}");

        using var reader = kafka.OpenReader();
        var (ranges, count, redrivenCount) = await CountAsync(reader, db, dlq, ct);
        var items = new List<Item>();
        var more = await CollectAsync();
        return Results.Ok(new Listing(dlq, originalTopic, count, redrivenCount, count - redrivenCount, items, more));

        async Task<bool> CollectAsync()
        {
            foreach (var range in ranges)
            foreach (var chunk in reader.Read(dlq, range.Partition, range.Low, range.High, ct).Chunk(RedriveBatch))
            {
                var redrivenAt = await DeadLetterStore.RedrivenAsync(db, dlq, range.Partition, chunk.Select(l => l.Offset), ct);
                foreach (var letter in chunk)
                {
                    DateTimeOffset? at = redrivenAt.TryGetValue(letter.Offset, out var t) ? new DateTimeOffset(t, TimeSpan.Zero) : null;
                    if (waiting == true && at is not null) continue;
                    if (items.Count == (limit ?? DefaultLimit)) return true;
                    items.Add(Describe(letter, at));
                }
            }
            return false;
        }
    }

    /// <summary>Every dead-letter topic with its counts (also what <c>GET /admin/system</c> shows).</summary>
    public static async Task<IReadOnlyList<TopicSummary>> SummariesAsync(DeadLetterKafka kafka, NpgsqlDataSource db, CancellationToken ct)
    {
        using var reader = kafka.OpenReader();
        var summaries = new List<TopicSummary>();
        foreach (var original in Topics.All)
        {
            var (_, messages, redriven) = await CountAsync(reader, db, Topics.DeadLetter(original), ct);
            summaries.Add(new TopicSummary(Topics.DeadLetter(original), original, messages, redriven, messages - redriven));
        }
        return summaries;
    }

    /// <summary>
    /// Republishes one dead letter (<c>partition</c> and <c>offset</c>) or all of a topic (at most
    /// <c>limit</c>) to the topic it came from. Those redriven before are skipped.
    /// </summary>
    private static async Task<IResult> RedriveAsync(string? topic, int? partition, long? offset, int? limit,
        DeadLetterKafka kafka, NpgsqlDataSource db, ILoggerFactory logs, CancellationToken ct)
    {
        if (Resolve(topic) is not var (dlq, originalTopic)) return UnknownTopic();
        if (partition is null != offset is null) return Invalid("offset", "partition and offset go together: both for one dead letter, neither for all");
        if (partition is < 0 || offset is < 0) return Invalid("offset", "partition and offset must not be negative");
        if (limit is < 1) return Invalid("limit", "must be at least 1");
        if (partition is not null && limit is not null) return Invalid("limit", "applies to a redrive of all, not of one dead letter");

        using var reader = kafka.OpenReader();
        // The high watermarks read now bound this redrive: a redriven message that fails again comes back
        // as a new dead letter past them, and waits for the next redrive instead of looping.
        var (ranges, _, _) = await CountAsync(reader, db, dlq, ct);
        var (published, already) = (0, 0);
        if (partition is { } p && offset is { } o)
        {
            var letter = ranges.Where(r => r.Partition == p && o >= r.Low && o < r.High)
                .SelectMany(r => reader.Read(dlq, p, o, o + 1, ct)).FirstOrDefault(l => l.Offset == o);
            if (letter is null)
                return Results.Problem(statusCode: 404, title: $"No dead letter at {dlq} [{p}] @{o}",
                    detail: "It was purged, removed by retention, or never written. GET /admin/deadletters?topic=... lists them.");
            (published, already) = await RedriveBatchAsync(db, kafka, dlq, originalTopic, [letter], ct);
        }
        else
        {
            var budget = limit ?? int.MaxValue;
            foreach (var range in ranges)
            {
                using var letters = reader.Read(dlq, range.Partition, range.Low, range.High, ct).GetEnumerator();
                while (published < budget)
                {
                    var batch = new List<DeadLetter>(RedriveBatch);
                    while (batch.Count < Math.Min(RedriveBatch, budget - published) && letters.MoveNext()) batch.Add(letters.Current);
                    if (batch.Count == 0) break;
                    var (p1, a1) = await RedriveBatchAsync(db, kafka, dlq, originalTopic, batch, ct);
                    (published, already) = (published + p1, already + a1);
                }
            }
        }
        logs.CreateLogger(typeof(DeadLetterEndpoints)).LogInformation(
            "Redrove {Published} dead letters of {Topic} to {OriginalTopic} ({AlreadyRedriven} redriven before)", published, dlq, originalTopic, already);
        return Results.Ok(new RedriveResult(dlq, originalTopic, published, already));
    }

    /// <summary>
    /// Claims the batch's dead letters in the database, publishes those not claimed before, and commits
    /// once the broker has acknowledged them all. Stopped before the commit (a crash, a cancelled request,
    /// a broker error), nothing is recorded and the next redrive publishes them again: harmless, since
    /// they keep their event ids and every consumer's inbox applies an event at most once. Each dead
    /// letter stays in its topic either way.
    /// </summary>
    private static async Task<(int Published, int Already)> RedriveBatchAsync(NpgsqlDataSource db, DeadLetterKafka kafka,
        string dlq, string originalTopic, IReadOnlyList<DeadLetter> batch, CancellationToken ct)
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
    /// Removes every dead letter of the topic up to its current end. The confirmation must repeat the
    /// dead-letter topic's name. The purge mark is recorded first, so the dead letters are gone from the
    /// list and from redrives even where the broker does not serve DeleteRecords (the embedded cluster).
    /// </summary>
    private static async Task<IResult> PurgeAsync(string? topic, string? confirm, DeadLetterKafka kafka, NpgsqlDataSource db, ILoggerFactory logs, CancellationToken ct)
    {
        if (Resolve(topic) is not var (dlq, originalTopic)) return UnknownTopic();
        if (confirm != dlq) return Invalid("confirm", $"must repeat the dead-letter topic's name, '{dlq}', to confirm the purge");

        using var reader = kafka.OpenReader();
        var ends = reader.Ranges(dlq);
        var visible = await DeadLetterStore.VisibleAsync(db, dlq, ends, ct);
        await DeadLetterStore.MarkPurgedAsync(db, dlq, ends, ct);
        var brokerError = await kafka.DeleteRecordsAsync(dlq, ends.Where(e => e.High > e.Low).Select(e => (e.Partition, e.High)));
        var purged = visible.Sum(v => v.High - v.Low);
        logs.CreateLogger(typeof(DeadLetterEndpoints)).LogWarning(
            "Purged {Purged} dead letters of {Topic} (deleted on the broker: {Deleted} {BrokerError})", purged, dlq, brokerError is null, brokerError);
        return Results.Ok(new PurgeResult(dlq, originalTopic, purged, brokerError is null, brokerError));
    }

    private static async Task<(IReadOnlyList<PartitionRange> Visible, long Messages, long Redriven)> CountAsync(
        DeadLetterKafka.Reader reader, NpgsqlDataSource db, string dlq, CancellationToken ct)
    {
        var visible = await DeadLetterStore.VisibleAsync(db, dlq, reader.Ranges(dlq), ct);
        var messages = visible.Sum(v => v.High - v.Low);
        return (visible, messages, messages == 0 ? 0 : await DeadLetterStore.CountRedrivenAsync(db, dlq, visible, ct));
    }

    /// <summary>
    /// A saga topic or its dead-letter topic, as (dead-letter topic, original topic). Only those: a
    /// redrive publishes to the topic named by the dead-letter topic, never to one named in a header.
    /// </summary>
    private static (string Dlq, string Original)? Resolve(string? topic) => topic switch
    {
        null => null,
        _ when Topics.All.Contains(topic) => (Topics.DeadLetter(topic), topic),
        _ when Topics.All.FirstOrDefault(t => Topics.DeadLetter(t) == topic) is { } original => (topic, original),
        _ => null,
    };

    private static IResult UnknownTopic() =>
        Invalid("topic", $"must be a saga topic or its dead-letter topic ({string.Join(", ", Topics.All.Select(Topics.DeadLetter))})");

    private static IResult Invalid(string field, string error) =>
        Results.ValidationProblem(new Dictionary<string, string[]> { [field] = [error] });

    private static Item Describe(DeadLetter letter, DateTimeOffset? redrivenAt)
    {
        var value = letter.Message.Value;
        return new Item(letter.Topic, letter.Partition, letter.Offset, letter.Timestamp,
            letter.Message.Key is { } k ? Preview(k, int.MaxValue) : null,
            letter.Header(Headers.EventId), letter.Header(Headers.EventType),
            letter.Header(DeadLetterHeaders.OriginalTopic),
            int.TryParse(letter.Header(DeadLetterHeaders.OriginalPartition), out var partition) ? partition : null,
            long.TryParse(letter.Header(DeadLetterHeaders.OriginalOffset), out var offset) ? offset : null,
            letter.Header(DeadLetterHeaders.ConsumerGroup),
            letter.Header(DeadLetterHeaders.ErrorType), letter.Header(DeadLetterHeaders.ErrorMessage),
            DateTimeOffset.TryParse(letter.Header(DeadLetterHeaders.FailedAt), out var failedAt) ? failedAt : null,
            value?.Length ?? 0, value is null ? null : Preview(value, PreviewBytes), redrivenAt);
    }

    /// <summary>The start of a body as text, or as hex when it is not UTF-8 (poison can be any bytes).</summary>
    private static string Preview(byte[] bytes, int maxBytes)
    {
        var head = bytes.AsSpan(0, Math.Min(bytes.Length, maxBytes));
        var cut = head.Length < bytes.Length ? "…" : "";
        try
        {
            var chars = new char[head.Length];
            // flush: false leaves a character cut in half by the limit undecoded instead of failing on it.
            var count = StrictUtf8.GetDecoder().GetChars(head, chars, flush: false);
            return new string(chars, 0, count) + cut;
        }
        catch (DecoderFallbackException)
        {
            var shown = head[..Math.Min(head.Length, 64)];
            return "0x" + Convert.ToHexStringLower(shown) + (shown.Length < bytes.Length ? "…" : "");
        }
    }
}
