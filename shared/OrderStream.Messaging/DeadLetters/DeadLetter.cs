using System.Text;
using Confluent.Kafka;

namespace OrderStream.Messaging.DeadLetters;

/// <summary>One message of a dead-letter topic, where it sits and what it holds.</summary>
public sealed record DeadLetter(string Topic, int Partition, long Offset, DateTimeOffset Timestamp, Message<byte[]?, byte[]?> Message)
{
    public string? Header(string name) =>
        Message.Headers?.LastOrDefault(h => h.Key == name) is { } h ? Encoding.UTF8.GetString(h.GetValueBytes()) : null;
}

/// <summary>The readable offsets of one partition: from <see cref="Low"/> up to, not including, <see cref="High"/>.</summary>
public sealed record PartitionRange(int Partition, long Low, long High);
