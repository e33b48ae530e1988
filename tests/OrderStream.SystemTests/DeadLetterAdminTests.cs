using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.Messaging;
using OrderStream.TestSupport;

namespace OrderStream.SystemTests;

/// <summary>
/// /admin/deadletters on the gateway: list, redrive after a fix (each message applied once, the redrive
/// itself idempotent), purge with a confirmation. Each test uses a topic of its own, so their dead
/// letters never mix.
/// </summary>
public sealed class DeadLetterAdminTests(OrderStreamStack stack) : IClassFixture<OrderStreamStack>
{
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(120);

    public sealed record Item(
        string Topic, int Partition, long Offset, string? Key, string? EventId, string? EventType, string? OriginalTopic, int? OriginalPartition,
        long? OriginalOffset, string? ConsumerGroup, string? ErrorType, string? ErrorMessage, DateTimeOffset? FailedAt, int BodyBytes, string? BodyPreview,
        DateTimeOffset? RedrivenAt);

    public sealed record Listing(string Topic, string OriginalTopic, long Messages, long Redriven, long Waiting, List<Item> Items, bool More);

    public sealed record Redrive(string Topic, string OriginalTopic, int Published, int AlreadyRedriven);

    [Fact]
    public async Task A_redrive_after_the_fix_applies_each_of_100_dead_lettered_messages_once_and_a_second_redrive_publishes_nothing()
    {
        const int count = 100;
        await stack.SeedAsync("DLR-1", 1_000);
        (await stack.Admin.PutAsJsonAsync("/admin/payment/consumer/failures", new { rate = 1.0, mode = "Error", topic = Topics.InventoryReserved })).EnsureSuccessStatusCode();
        Guid[] ids;
        Listing failed;
        try
        {
            ids = await Concurrently.ForAllAsync(Enumerable.Range(0, count), 8, i => stack.PlaceAsync(Orders.Body($"redrive-{i}", ("DLR-1", 1, 2.00m))));
            failed = await Eventually.Get(async () => await ListAsync($"topic={Topics.InventoryReserved}&limit=1000") is { Waiting: count } l ? l : null,
                Settle, "every reservation dead-lettered by payment", TimeSpan.FromMilliseconds(500));
        }
        finally
        {
            // The fix.
            (await stack.Admin.PutAsJsonAsync("/admin/payment/consumer/failures", new { rate = 0.0 })).EnsureSuccessStatusCode();
        }

        // Listed with where they came from, why they failed, and what they hold.
        Assert.Equal((Topics.DeadLetter(Topics.InventoryReserved), Topics.InventoryReserved, (long)count, 0L, false), (failed.Topic, failed.OriginalTopic, failed.Messages, failed.Redriven, failed.More));
        Assert.Equal(ids.Select(id => id.ToString()).Order(), failed.Items.Select(i => i.Key!).Order());
        Assert.All(failed.Items, item =>
        {
            Assert.Equal((Topics.InventoryReserved, "payment", Topics.InventoryReserved), (item.OriginalTopic, item.ConsumerGroup, item.EventType));
            Assert.StartsWith("Injected failure", item.ErrorMessage);
            Assert.NotNull(item.ErrorType);
            Assert.NotNull(item.FailedAt);
            Assert.True(item.OriginalPartition >= 0 && item.OriginalOffset >= 0);
            Assert.True(Guid.TryParse(item.EventId, out _));
            Assert.Contains(item.Key!, item.BodyPreview);
            Assert.Null(item.RedrivenAt);
        });
        Assert.Equal(0, await PaymentsAsync(ids));

        // Stopped half-way (here: at most 40), nothing is lost: the rest is still waiting and goes with the next redrive.
        var topicBefore = stack.Kafka.MessageCount(Topics.InventoryReserved);
        Assert.Equal((40, 0), Counts(await RedriveAsync($"topic={Topics.InventoryReserved}&limit=40")));
        var halfway = await ListAsync($"topic={Topics.InventoryReserved}&limit=1000&waiting=true");
        Assert.Equal(((long)count, 40L, 60L, 60), (halfway.Messages, halfway.Redriven, halfway.Waiting, halfway.Items.Count));
        Assert.Equal((60, 40), Counts(await RedriveAsync($"topic={Topics.InventoryReserved}")));
        Assert.Equal(topicBefore + count, stack.Kafka.MessageCount(Topics.InventoryReserved));

        var views = await Concurrently.ForAllAsync(ids, 8, id => stack.WaitSettledAsync(id, Settle));
        Assert.All(views, v => Assert.Equal(OrderStatus.Confirmed, v.Status));

        // Redriving again publishes nothing.
        Assert.Equal((0, count), Counts(await RedriveAsync($"topic={Topics.InventoryReserved}")));
        Assert.Equal(topicBefore + count, stack.Kafka.MessageCount(Topics.InventoryReserved));
        Assert.All((await ListAsync($"topic={Topics.InventoryReserved}&limit=1000")).Items, i => Assert.NotNull(i.RedrivenAt));

        // A crash after the broker acknowledged a republish and before the record was committed, for ten
        // of them: the next redrive publishes those ten again, and the inbox makes them no-ops.
        await using (var db = stack.Db("gateway"))
        {
            await db.OpenAsync();
            await using var forget = new Npgsql.NpgsqlCommand(
                """
                DELETE FROM dead_letter_redrives WHERE dlq_topic = @t AND (dlq_partition, dlq_offset) IN
                    (SELECT dlq_partition, dlq_offset FROM dead_letter_redrives WHERE dlq_topic = @t ORDER BY dlq_offset LIMIT 10)
                """, db);
            forget.Parameters.AddWithValue("t", Topics.DeadLetter(Topics.InventoryReserved));
            Assert.Equal(10, await forget.ExecuteNonQueryAsync());
        }
        Assert.Equal((10, count - 10), Counts(await RedriveAsync($"topic={Topics.InventoryReserved}")));
        Assert.Equal(topicBefore + count + 10, stack.Kafka.MessageCount(Topics.InventoryReserved));

        var checker = new OrderStreamChecker(stack.CheckOptions);
        await checker.WaitUntilQuietAsync(Settle);
        var report = await checker.RunAsync();
        Assert.True(report.Passed, report.ToString());
        Assert.True(report.Consumers.Single(c => c.Group == "payment").SkippedDuplicates >= 10, report.ToString());

        // Each applied exactly once: one payment, one authorization event, one sale per order.
        Assert.Equal(count, await PaymentsAsync(ids));
        Assert.Equal(count, await stack.QueryOneAsync<long>("payment", "SELECT count(DISTINCT order_id) FROM payments WHERE order_id = ANY(@ids)", new { ids }));
        var keys = ids.Select(id => id.ToString()).ToHashSet();
        var authorized = stack.Kafka.ReadAll(Topics.PaymentAuthorized).Select(m => Encoding.UTF8.GetString(m.Message.Key!)).Where(keys.Contains).ToList();
        Assert.Equal(count, authorized.Count);
        Assert.Equal(count, authorized.Distinct().Count());
        foreach (var id in ids.Take(10))
        {
            var view = await stack.WaitSettledAsync(id, Settle);
            Assert.Equal(view.Timeline.Count, view.Timeline.Select(t => t.EventId).Distinct().Count());
        }
        var stock = await stack.Http.GetFromJsonAsync<Orders.Stock>("/inventory/DLR-1");
        Assert.Equal(new Orders.Stock("DLR-1", 1_000 - count, 0, count, 1_000), stock);
    }

    [Fact]
    public async Task One_dead_letter_redriven_by_its_place_is_published_once_with_its_original_headers()
    {
        var orderId = Guid.NewGuid();
        var eventId = Guid.NewGuid().ToString();
        var body = Encoding.UTF8.GetBytes($"still not an event {orderId}");
        // Inventory and the materializer both consume payment.authorized.v1: each dead-letters its copy.
        await stack.Kafka.ProduceRawAsync(Topics.PaymentAuthorized, orderId.ToString(), body,
            new() { [Headers.EventId] = eventId, [Headers.EventType] = Topics.PaymentAuthorized, ["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" });
        var letters = await LettersAsync(Topics.PaymentAuthorized, orderId, 2);
        var letter = letters.Single(l => l.ConsumerGroup == "inventory");
        Assert.Equal(eventId, letter.EventId);
        Assert.Contains("Malformed", letter.ErrorMessage);

        var before = stack.Kafka.MessageCount(Topics.PaymentAuthorized);
        var place = $"topic={letter.Topic}&partition={letter.Partition}&offset={letter.Offset}";
        Assert.Equal((1, 0), Counts(await RedriveAsync(place)));
        Assert.Equal((0, 1), Counts(await RedriveAsync(place)));
        Assert.Equal(before + 1, stack.Kafka.MessageCount(Topics.PaymentAuthorized));

        // The original message again: key, value and headers, without the dead-letter ones.
        var copies = stack.Kafka.ReadAll(Topics.PaymentAuthorized).Where(m => Encoding.UTF8.GetString(m.Message.Key!) == orderId.ToString()).ToList();
        Assert.Equal(2, copies.Count);
        var again = copies.MaxBy(m => m.Offset.Value)!.Message;
        Assert.Equal(body, again.Value);
        Assert.Equal(copies.MinBy(m => m.Offset.Value)!.Message.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.GetValueBytes()))), again.Headers.Select(h => (h.Key, Encoding.UTF8.GetString(h.GetValueBytes()))));
        Assert.DoesNotContain(again.Headers, h => h.Key.StartsWith("dlq-", StringComparison.Ordinal));

        // Still broken, so it comes back: two new dead letters, from the new offset; the old one shows it was redriven.
        var all = await LettersAsync(Topics.PaymentAuthorized, orderId, 4);
        Assert.Equal(2, all.Count(l => l.OriginalOffset == copies.Max(m => m.Offset.Value) && l.RedrivenAt is null));
        Assert.NotNull(all.Single(l => l.Offset == letter.Offset && l.Partition == letter.Partition).RedrivenAt);

        await AssertProblemAsync(await stack.Admin.PostAsync($"/admin/deadletters/redrive?topic={letter.Topic}&partition={letter.Partition}&offset=99999999", null), HttpStatusCode.NotFound);
        await AssertProblemAsync(await stack.Admin.PostAsync($"/admin/deadletters/redrive?topic={letter.Topic}&partition=999&offset=0", null), HttpStatusCode.NotFound);
        foreach (var bad in new[]
                 {
                     "", "topic=no.such.topic.v1", "topic=no.such.topic.v1.dlq", $"topic={letter.Topic}&partition=0",
                     $"topic={letter.Topic}&offset=0", $"topic={letter.Topic}&partition=-1&offset=0", $"topic={letter.Topic}&limit=0",
                     $"topic={letter.Topic}&limit=lots", $"topic={letter.Topic}&partition=0&offset=0&limit=5",
                 })
            await AssertProblemAsync(await stack.Admin.PostAsync($"/admin/deadletters/redrive?{bad}", null), HttpStatusCode.BadRequest, bad);
        foreach (var bad in new[] { "topic=nope", $"topic={Topics.PaymentAuthorized}&limit=0", $"topic={Topics.PaymentAuthorized}&limit=1001", $"topic={Topics.PaymentAuthorized}&limit=x" })
            await AssertProblemAsync(await stack.Admin.GetAsync($"/admin/deadletters?{bad}"), HttpStatusCode.BadRequest, bad);
    }

    [Fact]
    public async Task Purge_needs_the_dead_letter_topic_name_as_confirmation_and_removes_everything_up_to_its_end()
    {
        var dlq = Topics.DeadLetter(Topics.OrderCreated);
        var first = Guid.NewGuid();
        await stack.Kafka.ProduceRawAsync(Topics.OrderCreated, first.ToString(), [0xde, 0xad], new() { [Headers.EventId] = Guid.NewGuid().ToString() });
        await LettersAsync(Topics.OrderCreated, first, 2);
        var before = await ListAsync($"topic={dlq}");
        Assert.True(before.Messages >= 2);

        foreach (var confirm in new[] { "", "&confirm=", $"&confirm={Topics.OrderCreated}", $"&confirm={Topics.DeadLetter(Topics.PaymentFailed)}", $"&confirm={dlq.ToUpperInvariant()}" })
            await AssertProblemAsync(await stack.Admin.PostAsync($"/admin/deadletters/purge?topic={dlq}{confirm}", null), HttpStatusCode.BadRequest, confirm);
        await AssertProblemAsync(await stack.Admin.PostAsync($"/admin/deadletters/purge?topic=nope&confirm=nope", null), HttpStatusCode.BadRequest);
        Assert.Equal(before.Messages, (await ListAsync($"topic={dlq}")).Messages);

        // The original topic's name picks its dead-letter topic too; the confirmation is still the dead-letter topic's name.
        var purge = await stack.Admin.PostAsync($"/admin/deadletters/purge?topic={Topics.OrderCreated}&confirm={dlq}", null);
        Assert.Equal(HttpStatusCode.OK, purge.StatusCode);
        var result = await purge.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((dlq, before.Messages), (result.GetProperty("topic").GetString(), result.GetProperty("purged").GetInt64()));

        var after = await ListAsync($"topic={dlq}");
        Assert.Equal((0L, 0), (after.Messages, after.Items.Count));
        Assert.Equal((0, 0), Counts(await RedriveAsync($"topic={dlq}")));

        // Dead letters written after the purge are listed as usual.
        var second = Guid.NewGuid();
        await stack.Kafka.ProduceRawAsync(Topics.OrderCreated, second.ToString(), [0xbe, 0xef], new() { [Headers.EventId] = Guid.NewGuid().ToString() });
        var letters = await LettersAsync(Topics.OrderCreated, second, 2);
        Assert.All(letters, l => Assert.Equal("0xbeef", l.BodyPreview));
        Assert.Equal(2L, (await ListAsync($"topic={dlq}")).Messages);
        var summary = await stack.Admin.GetFromJsonAsync<JsonElement>("/admin/deadletters");
        var row = summary.GetProperty("topics").EnumerateArray().Single(t => t.GetProperty("topic").GetString() == dlq);
        Assert.Equal((2L, 0L, 2L), (row.GetProperty("messages").GetInt64(), row.GetProperty("redriven").GetInt64(), row.GetProperty("waiting").GetInt64()));
        Assert.Equal(Topics.All.Count, summary.GetProperty("topics").GetArrayLength());
    }

    [Fact]
    public async Task The_dead_letter_endpoints_are_401_without_a_token_and_403_with_one_not_an_admins()
    {
        var dlq = Topics.DeadLetter(Topics.InventoryFailed);
        var requests = new (HttpMethod Method, string Path)[]
        {
            (HttpMethod.Get, "/admin/deadletters"),
            (HttpMethod.Get, $"/admin/deadletters?topic={dlq}"),
            (HttpMethod.Post, $"/admin/deadletters/redrive?topic={dlq}"),
            (HttpMethod.Post, $"/admin/deadletters/purge?topic={dlq}&confirm={dlq}"),
        };
        using var http = new HttpClient { BaseAddress = stack.Gateway.BaseAddress };
        foreach (var (method, path) in requests)
        {
            var missing = await http.SendAsync(new HttpRequestMessage(method, path));
            await AssertProblemAsync(missing, HttpStatusCode.Unauthorized, path);
            Assert.Contains(missing.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
            var wrong = new HttpRequestMessage(method, path);
            wrong.Headers.Authorization = new("Bearer", TestIdentity.Customer("dl-customer"));
            await AssertProblemAsync(await http.SendAsync(wrong), HttpStatusCode.Forbidden, path);
            var other = new HttpRequestMessage(method, path);
            other.Headers.Authorization = new("Bearer", TestIdentity.Seller());
            await AssertProblemAsync(await http.SendAsync(other), HttpStatusCode.Forbidden, path);
        }
        Assert.Equal(HttpStatusCode.OK, (await stack.Admin.GetAsync("/admin/deadletters")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await stack.Admin.GetAsync($"/admin/deadletters?topic={dlq}")).StatusCode);
    }

    private async Task<Listing> ListAsync(string query) =>
        (await stack.Admin.GetFromJsonAsync<Listing>($"/admin/deadletters?{query}"))!;

    private async Task<Redrive> RedriveAsync(string query)
    {
        var response = await stack.Admin.PostAsync($"/admin/deadletters/redrive?{query}", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<Redrive>())!;
    }

    private static (int Published, int Already) Counts(Redrive r) => (r.Published, r.AlreadyRedriven);

    /// <summary>The dead letters of one order on a topic's dead-letter topic, once there are <paramref name="expected"/> of them.</summary>
    private Task<List<Item>> LettersAsync(string topic, Guid orderId, int expected) =>
        Eventually.Get(async () =>
        {
            var letters = (await ListAsync($"topic={topic}&limit=1000")).Items.Where(i => i.Key == orderId.ToString()).ToList();
            return letters.Count >= expected ? letters : null;
        }, Settle, $"{expected} dead letters of {orderId} on {topic}", TimeSpan.FromMilliseconds(250));

    private Task<long> PaymentsAsync(Guid[] ids) =>
        stack.QueryOneAsync<long>("payment", "SELECT count(*) FROM payments WHERE order_id = ANY(@ids)", new { ids });

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode expected, string? what = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{what}: expected {expected}, got {response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal((int)expected, JsonDocument.Parse(text).RootElement.GetProperty("status").GetInt32());
    }
}
