using System.Text;
using OrderStream.Contracts;

namespace OrderStream.Messaging.DeadLetters;

// What the dead-letter admin answers; the JSON of /admin/deadletters is these records as they are.

public sealed record DeadLetterTopicSummary(string Topic, string OriginalTopic, long Messages, long Redriven, long Waiting);

public sealed record DeadLetterListing(string Topic, string OriginalTopic, long Messages, long Redriven, long Waiting, IReadOnlyList<DeadLetterItem> Items, bool More);

public sealed record DeadLetterRedriveResult(string Topic, string OriginalTopic, int Published, int AlreadyRedriven);

public sealed record DeadLetterPurgeResult(string Topic, string OriginalTopic, long Purged, bool DeletedOnBroker, string? BrokerError);

/// <summary>One dead letter as an operator reads it: its place, its <c>dlq-*</c> headers decoded, and the start of its body.</summary>
public sealed record DeadLetterItem(
    string Topic, int Partition, long Offset, DateTimeOffset Timestamp, string? Key, string? EventId, string? EventType,
    string? OriginalTopic, int? OriginalPartition, long? OriginalOffset, string? ConsumerGroup,
    string? ErrorType, string? ErrorMessage, DateTimeOffset? FailedAt, int BodyBytes, string? BodyPreview, DateTimeOffset? RedrivenAt)
{
    private const int PreviewBytes = 256;
    private static readonly UTF8Encoding StrictUtf8 = new(false, true);

    public static DeadLetterItem Describe(DeadLetter letter, DateTimeOffset? redrivenAt)
    {
        var value = letter.Message.Value;
        return new DeadLetterItem(letter.Topic, letter.Partition, letter.Offset, letter.Timestamp,
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
