using Confluent.Kafka;
using Dapper;
using OrderStream.Checker;
using OrderStream.Contracts;
using Xunit.Abstractions;

namespace OrderStream.CheckerTests;

/// <summary>A smaller run whose services are stopped once it is quiet, so the books stay as each test leaves them.</summary>
public sealed class StoppedRun : CheckedRun, IAsyncLifetime
{
    protected override int OrderCount => 80;

    public new async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await Task.WhenAll(Services.Select(s => s.StopAsync()));
    }
}

/// <summary>
/// Proves each check can fail: corrupt the books the way a bug would (only what the schema allows),
/// and the right checks, and only those, report it with the order or SKU as an example. Each
/// corruption is undone afterwards, and each test first checks that the books are clean.
/// </summary>
public sealed class CheckerCorruptionTests(StoppedRun run, ITestOutputHelper output) : IClassFixture<StoppedRun>
{
    /// <summary>The rows a corruption aims at, picked from the books of the run.</summary>
    private sealed record Targets(Guid Confirmed, Guid MultiLineConfirmed, Guid Declined, Guid OutOfStock, string SkuWithStock, Guid EventId);

    private sealed record Corruption(string Db, string Apply, string Undo, string[] Failing, Func<Targets, string> Example);

    private static readonly Dictionary<string, Corruption> Corruptions = new()
    {
        ["available bumped"] = new("inventory",
            "UPDATE stock SET available = available + 1 WHERE sku = @SkuWithStock",
            "UPDATE stock SET available = available - 1 WHERE sku = @SkuWithStock",
            [CheckNames.StockBalance], t => t.SkuWithStock),
        ["stock moved from available to reserved"] = new("inventory",
            "UPDATE stock SET available = available - 1, reserved = reserved + 1 WHERE sku = @SkuWithStock",
            "UPDATE stock SET available = available + 1, reserved = reserved - 1 WHERE sku = @SkuWithStock",
            [CheckNames.StockReserved, CheckNames.StockVsReservations], t => t.SkuWithStock),
        ["order.created written twice"] = new("gateway",
            CopyOutboxRow(Topics.OrderCreated, "Confirmed"), DeleteOutboxRow,
            [CheckNames.DuplicateOrderCreated], t => t.Confirmed.ToString()),
        ["inventory.reserved written twice"] = new("inventory",
            CopyOutboxRow(Topics.InventoryReserved, "Confirmed"), DeleteOutboxRow,
            [CheckNames.DuplicateInventoryDecisions], t => t.Confirmed.ToString()),
        ["inventory.released written twice"] = new("inventory",
            CopyOutboxRow(Topics.InventoryReleased, "Declined"), DeleteOutboxRow,
            [CheckNames.DuplicateReleases], t => t.Declined.ToString()),
        ["payment.authorized written twice"] = new("payment",
            CopyOutboxRow(Topics.PaymentAuthorized, "Confirmed"), DeleteOutboxRow,
            [CheckNames.DuplicatePayments], t => t.Confirmed.ToString()),
        ["an event left unsent"] = new("materializer",
            "INSERT INTO outbox (event_id, topic, msg_key, event_type, payload) SELECT @EventId, topic, msg_key, event_type, payload FROM outbox ORDER BY id LIMIT 1",
            DeleteOutboxRow,
            [CheckNames.OutboxUnsent], _ => "Materializer: 1"),
        ["a confirmed view back to PENDING"] = new("materializer",
            "UPDATE order_view SET status = 'PENDING' WHERE order_id = @Confirmed",
            "UPDATE order_view SET status = 'CONFIRMED' WHERE order_id = @Confirmed",
            [CheckNames.Unsettled, CheckNames.ConfirmedConsistency, CheckNames.SoldVsConfirmed], t => t.Confirmed.ToString()),
        ["a confirmed order's items changed in the view"] = new("materializer",
            "UPDATE order_view SET items = jsonb_set(items, '{0,qty}', to_jsonb((items->0->>'qty')::int + 1)) WHERE order_id = @Confirmed",
            "UPDATE order_view SET items = jsonb_set(items, '{0,qty}', to_jsonb((items->0->>'qty')::int - 1)) WHERE order_id = @Confirmed",
            [CheckNames.SoldVsConfirmed], _ => "sold"),
        ["payment.failed in a confirmed order's timeline"] = new("materializer",
            $"INSERT INTO order_timeline (order_id, event_id, type, occurred_at) VALUES (@Confirmed, @EventId, '{Topics.PaymentFailed}', now())",
            "DELETE FROM order_timeline WHERE event_id = @EventId",
            [CheckNames.ConflictingOutcomes], t => t.Confirmed.ToString()),
        ["payment.authorized twice in the timeline"] = new("materializer",
            $"INSERT INTO order_timeline (order_id, event_id, type, occurred_at) VALUES (@Confirmed, @EventId, '{Topics.PaymentAuthorized}', now())",
            "DELETE FROM order_timeline WHERE event_id = @EventId",
            [CheckNames.DuplicateTimelineEvents], t => t.Confirmed.ToString()),
        ["a declined order's reservation sold"] = new("inventory",
            "UPDATE reservations SET status = 'SOLD' WHERE order_id = @Declined",
            "UPDATE reservations SET status = 'RELEASED' WHERE order_id = @Declined",
            [CheckNames.DeclinedCompensated, CheckNames.ConfirmedConsistency, CheckNames.StockVsReservations], t => t.Declined.ToString()),
        ["one line of a confirmed order released"] = new("inventory",
            "UPDATE reservations SET status = 'RELEASED' WHERE order_id = @MultiLineConfirmed AND sku = (SELECT min(sku) FROM reservations WHERE order_id = @MultiLineConfirmed)",
            "UPDATE reservations SET status = 'SOLD' WHERE order_id = @MultiLineConfirmed",
            [CheckNames.MixedReservations, CheckNames.ConfirmedConsistency, CheckNames.StockVsReservations], t => t.MultiLineConfirmed.ToString()),
        ["a confirmed order charged another amount than it was priced at"] = new("payment",
            "UPDATE payments SET amount = amount + 1 WHERE order_id = @Confirmed",
            "UPDATE payments SET amount = amount - 1 WHERE order_id = @Confirmed",
            [CheckNames.PaymentAmounts], t => t.Confirmed.ToString()),
        ["a payment for an out-of-stock order"] = new("payment",
            "INSERT INTO payments (order_id, payment_id, status, amount, currency, reason) VALUES (@OutOfStock, @EventId, 'DECLINED', 1, 'EUR', 'PAYMENT_DECLINED')",
            "DELETE FROM payments WHERE payment_id = @EventId",
            [CheckNames.InventoryFailedAlone, CheckNames.DeclinedCompensated], t => t.OutOfStock.ToString()),
        // The unique index forbids a second order per key; a dropped index is the bug this catches.
        ["the idempotency index dropped and a key reused"] = new("gateway",
            """
            ALTER TABLE orders DROP CONSTRAINT orders_user_id_idempotency_key_key;
            INSERT INTO orders (order_id, user_id, idempotency_key, request_hash, items, amount, currency)
            SELECT @EventId, user_id, idempotency_key, request_hash, items, amount, currency FROM orders WHERE order_id = @Confirmed
            """,
            """
            DELETE FROM orders WHERE order_id = @EventId;
            ALTER TABLE orders ADD CONSTRAINT orders_user_id_idempotency_key_key UNIQUE (user_id, idempotency_key);
            """,
            [CheckNames.DuplicateIdempotencyKeys, CheckNames.Unsettled], _ => "2 orders"),
    };

    private static string CopyOutboxRow(string topic, string target) => $"""
        INSERT INTO outbox (event_id, topic, msg_key, event_type, payload, created_at, sent_at)
        SELECT @EventId, topic, msg_key, event_type, payload, created_at, sent_at FROM outbox
        WHERE topic = '{topic}' AND msg_key = @{target}::text LIMIT 1
        """;

    private const string DeleteOutboxRow = "DELETE FROM outbox WHERE event_id = @EventId";

    public static TheoryData<string> Names => new(Corruptions.Keys);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_corruption_is_reported_by_its_checks(string name)
    {
        var corruption = Corruptions[name];
        var clean = await run.Checker.RunAsync();
        Assert.True(clean.Passed, "the books are clean before the corruption:\n" + clean);

        var targets = await TargetsAsync();
        var args = new DynamicParameters(targets);
        await ExecuteAsync(corruption.Db, corruption.Apply, args);
        try
        {
            var report = await run.Checker.RunAsync();
            output.WriteLine(report.ToString());
            Assert.False(report.Passed);
            Assert.Equal(corruption.Failing.Order(), report.Failures.Select(f => f.Name).Order());
            var first = report[corruption.Failing[0]];
            Assert.Equal(1, first.Count);
            Assert.Contains(first.Examples, e => e.Contains(corruption.Example(targets), StringComparison.Ordinal));
        }
        finally
        {
            await ExecuteAsync(corruption.Db, corruption.Undo, args);
        }
        Assert.True((await run.Checker.RunAsync()).Passed, "the books are clean again once the corruption is undone");
    }

    [Fact]
    public async Task Consumer_lag_is_reported_per_group_and_topic()
    {
        var messages = run.Kafka.MessageCount(Topics.PaymentAuthorized);
        var behind = "checker-test-" + Guid.NewGuid().ToString("N");
        var neverStarted = "checker-test-" + Guid.NewGuid().ToString("N");
        // One group committed all but the last message of one partition; the other never committed anything.
        using (var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = run.Kafka.BootstrapServers, GroupId = behind, EnableAutoCommit = false }).Build())
        {
            var ends = Enumerable.Range(0, TestSupport.KafkaTestCluster.Partitions)
                .Select(p => new TopicPartition(Topics.PaymentAuthorized, p))
                .Select(tp => (tp, consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(10)).High.Value)).ToList();
            var (last, high) = ends.First(e => e.Value > 0);
            consumer.Commit(ends.Select(e => new TopicPartitionOffset(e.tp, e.tp == last ? high - 1 : e.Value)));
        }

        var checker = new OrderStreamChecker(run.CheckOptions with
        {
            ConsumerGroups = [.. ConsumerGroup.Defaults,
                new ConsumerGroup(behind, Catalogue.Inventory, [Topics.PaymentAuthorized]),
                new ConsumerGroup(neverStarted, Catalogue.Inventory, [Topics.PaymentAuthorized])],
        });
        var report = await checker.RunAsync();
        output.WriteLine(report.ToString());

        Assert.Equal([CheckNames.ConsumerLag], report.Failures.Select(f => f.Name));
        Assert.Equal(1 + messages, report[CheckNames.ConsumerLag].Count);
        Assert.Equal(
            new[] { $"{behind}/{Topics.PaymentAuthorized}: 1", $"{neverStarted}/{Topics.PaymentAuthorized}: {messages}" }.Order(StringComparer.Ordinal),
            report[CheckNames.ConsumerLag].Examples.Order(StringComparer.Ordinal));
        Assert.False(report.Quiet);
    }

    [Fact]
    public async Task Without_kafka_the_kafka_checks_are_skipped_and_the_databases_still_checked()
    {
        var report = await new OrderStreamChecker(run.CheckOptions with { KafkaBootstrapServers = null }).RunAsync();
        Assert.True(report.Passed, report.ToString());
        Assert.False(report.KafkaChecked);
        Assert.Equal([CheckNames.ConsumerLag, CheckNames.DeadLettersUnaccounted], report.Checks.Where(c => c.Skipped).Select(c => c.Name));
        Assert.All(report.Consumers, c => Assert.Null(c.SkippedDuplicates));
        Assert.Contains("SKIP  kafka.lag", report.ToString());
    }

    private async Task<Targets> TargetsAsync()
    {
        var views = run.Views;
        var confirmed = views.Where(v => v.Status == OrderStatus.Confirmed).ToList();
        await using var inventory = run.Db("inventory");
        var multiLine = await inventory.QueryFirstAsync<Guid>(
            "SELECT order_id FROM reservations WHERE status = 'SOLD' GROUP BY order_id HAVING count(*) > 1 ORDER BY order_id LIMIT 1");
        var sku = await inventory.QueryFirstAsync<string>("SELECT sku FROM stock ORDER BY available DESC, sku LIMIT 1");
        return new Targets(
            confirmed.OrderBy(v => v.OrderId).First().OrderId,
            multiLine,
            views.Where(v => v.Reason == FailureReasons.PaymentDeclined).OrderBy(v => v.OrderId).First().OrderId,
            views.Where(v => v.Reason == FailureReasons.OutOfStock).OrderBy(v => v.OrderId).First().OrderId,
            sku,
            Guid.NewGuid());
    }

    private async Task ExecuteAsync(string db, string sql, DynamicParameters args)
    {
        await using var conn = run.Db(db);
        await conn.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var changed = await conn.ExecuteAsync(sql, args, tx);
        Assert.True(changed > 0, $"'{sql}' changed nothing");
        await tx.CommitAsync();
    }
}
