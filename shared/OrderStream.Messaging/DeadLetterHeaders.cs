namespace OrderStream.Messaging;

/// <summary>Headers added to a dead-lettered message, next to its original headers.</summary>
public static class DeadLetterHeaders
{
    public const string OriginalTopic = "dlq-original-topic";
    public const string OriginalPartition = "dlq-original-partition";
    public const string OriginalOffset = "dlq-original-offset";
    public const string ConsumerGroup = "dlq-consumer-group";
    public const string ErrorType = "dlq-error-type";
    public const string ErrorMessage = "dlq-error-message";
    public const string FailedAt = "dlq-failed-at";
}
