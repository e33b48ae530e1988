using System.Text;
using OrderStream.Contracts;
using OrderStream.Messaging;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

public sealed class DeadLetterTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    [Fact]
    public async Task Malformed_messages_go_to_the_dead_letter_topic_and_the_orders_behind_them_settle()
    {
        await stack.SeedAsync("D-1", 1_000);
        var poison = new List<(string Topic, int Partition, long Offset)>();
        for (var partition = 0; partition < KafkaTestCluster.Partitions; partition++)
        {
            foreach (var (topic, body, type) in PoisonFor(partition))
            {
                var headers = new Dictionary<string, string> { [Headers.EventId] = Guid.NewGuid().ToString() };
                if (type is not null) headers[Headers.EventType] = type;
                var delivered = await stack.Kafka.ProduceRawAsync(topic, Guid.NewGuid().ToString(), body, headers, partition);
                poison.Add((topic, delivered.Partition.Value, delivered.Offset.Value));
            }
        }

        var ids = await Concurrently.ForAllAsync(Enumerable.Range(0, 40), 8, i => stack.PlaceAsync(Orders.Body($"dlq-{i}", ("D-1", 1, 1.00m))));
        var views = await Concurrently.ForAllAsync(ids, 8, id => stack.WaitSettledAsync(id));
        Assert.All(views, v => Assert.Equal(OrderStatus.Confirmed, v.Status));

        // Each consuming group dead-letters its own copy, with where it came from and why.
        var consumersOf = new Dictionary<string, string[]>
        {
            [Topics.OrderCreated] = ["inventory", "order-materializer"],
            [Topics.InventoryReserved] = ["payment", "order-materializer"],
        };
        await Eventually.True(() => Task.FromResult(poison.All(p =>
        {
            var letters = stack.Kafka.ReadAll(Topics.DeadLetter(p.Topic)).Select(m => Describe(m.Message.Headers)).ToList();
            return consumersOf[p.Topic].All(group => letters.Any(h =>
                h[DeadLetterHeaders.OriginalTopic] == p.Topic &&
                h[DeadLetterHeaders.OriginalPartition] == p.Partition.ToString() &&
                h[DeadLetterHeaders.OriginalOffset] == p.Offset.ToString() &&
                h[DeadLetterHeaders.ConsumerGroup] == group &&
                h[DeadLetterHeaders.ErrorMessage].Length > 0 &&
                h.ContainsKey(DeadLetterHeaders.ErrorType) && h.ContainsKey(DeadLetterHeaders.FailedAt)));
        })), TimeSpan.FromSeconds(30), "every poison message in its dead-letter topic once per consuming group");
    }

    private static IEnumerable<(string Topic, byte[] Body, string? Type)> PoisonFor(int partition)
    {
        var orderId = Guid.NewGuid();
        yield return (Topics.OrderCreated, [0xde, 0xad, 0xbe, 0xef, (byte)partition], null);
        yield return (Topics.OrderCreated, Json($$$"""{"eventId":"{{{Guid.NewGuid()}}}","type":"order.created","version":9,"occurredAt":"2026-01-01T00:00:00Z","correlationId":"{{{orderId}}}","payload":{}}"""), "order.created.v9");
        yield return (Topics.OrderCreated, Json($$$"""{"eventId":"{{{Guid.NewGuid()}}}","type":"order.created","version":1,"occurredAt":"2026-01-01T00:00:00Z","correlationId":"{{{orderId}}}","causationId":null,"payload":{"orderId":"{{{orderId}}}","userId":"u","items":[{"sku":"D-1","qty":"lots","price":1}],"amount":1,"currency":"EUR","createdAt":"2026-01-01T00:00:00Z"}}"""), Topics.OrderCreated);
        yield return (Topics.InventoryReserved, Encoding.UTF8.GetBytes("not json at all"), Topics.InventoryReserved);
    }

    private static byte[] Json(string text) => Encoding.UTF8.GetBytes(text);

    private static Dictionary<string, string> Describe(Confluent.Kafka.Headers headers) =>
        headers.GroupBy(h => h.Key).ToDictionary(g => g.Key, g => Encoding.UTF8.GetString(g.Last().GetValueBytes()));
}
