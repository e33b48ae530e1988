using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OrderStream.Contracts;
using OrderStream.TestSupport;
using StackExchange.Redis;

namespace OrderStream.IntegrationTests;

public sealed class MaterializerFixture : ServiceFixture
{
    protected override string Name => "order-materializer";

    // The consumer reports each batch transaction at Debug: the backlog test shows batches really formed.
    protected override IEnumerable<KeyValuePair<string, string>> Settings => [new("Logging__LogLevel__OrderStream.Messaging.Consumer", "Debug")];
}

public sealed class MaterializerTests(MaterializerFixture materializer) : IClassFixture<MaterializerFixture>
{
    private static readonly OrderLine[] Lines = [new("M-1", 1, 3.00m)];

    private async Task<OrderView?> ViewAsync(Guid orderId)
    {
        var response = await materializer.Http.GetAsync($"/orders/{orderId}");
        return response.StatusCode == HttpStatusCode.NotFound ? null : await response.Content.ReadFromJsonAsync<OrderView>(EventJson.Options);
    }

    /// <summary>Produces one event and waits until the materializer has applied it, so the next one really arrives after it.</summary>
    private async Task<OrderView> ApplyAsync<TEvent>(TEvent evt) where TEvent : IEvent
    {
        var eventId = Guid.CreateVersion7();
        await materializer.Kafka.ProduceEventAsync(evt, eventId);
        return await Eventually.Get(async () => await ViewAsync(evt.OrderId) is { } v && v.Timeline.Any(t => t.EventId == eventId) ? v : null,
            TimeSpan.FromSeconds(10), $"{TEvent.Topic} to be applied");
    }

    [Fact]
    public async Task Events_arriving_in_the_worst_order_converge_to_the_confirmed_order()
    {
        var id = Guid.CreateVersion7();
        Assert.Equal(OrderStatus.Pending, (await ApplyAsync(new InventorySoldV1(id, [new SkuQuantity("M-1", 1)]))).Status);
        Assert.Equal(OrderStatus.Pending, (await ApplyAsync(new PaymentAuthorizedV1(id, Guid.CreateVersion7(), 3.00m, "EUR"))).Status);
        Assert.Equal(OrderStatus.Pending, (await ApplyAsync(new InventoryReservedV1(id, "u", Lines, 3.00m, "EUR"))).Status);
        var view = await ApplyAsync(new OrderCreatedV1(id, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow));

        Assert.Equal((OrderStatus.Confirmed, (string?)null, 3.00m, "u"), (view.Status, view.Reason, view.Amount, view.UserId));
        Assert.Equal(Lines, view.Items!);
        Assert.Equal(4, view.Timeline.Count);
        var updates = await materializer.WaitForEventsAsync(Topics.OrderUpdated, id);
        Assert.Equal(OrderStatus.Confirmed, Assert.Single(updates).Payload.Deserialize<OrderUpdatedV1>(EventJson.Options)!.Status);
    }

    [Fact]
    public async Task The_view_shows_the_lines_and_amount_inventory_priced_whichever_of_them_and_the_order_comes_first()
    {
        // The client asked 0.01 for an item the catalogue sells at 999.00, and two of another at 0.01.
        OrderLine[] asked = [new("M-9", 1, 0.01m), new("M-8", 2, 0.01m)];
        PricedLine[] priced = [new("M-8", 2, 1.25m), new("M-9", 1, 999.00m)];
        OrderLine[] shown = [new("M-8", 2, 1.25m), new("M-9", 1, 999.00m)];

        var createdFirst = Guid.CreateVersion7();
        var pending = await ApplyAsync(new OrderCreatedV1(createdFirst, "u", asked, 0.03m, "EUR", DateTimeOffset.UtcNow));
        Assert.Equal(0.03m, pending.Amount); // not priced yet: what the order asked, which decides nothing
        var reserved = await ApplyAsync(new InventoryReservedV2(createdFirst, "u", priced, 1001.50m, "EUR"));
        Assert.Equal((1001.50m, "EUR"), (reserved.Amount, reserved.Currency));
        Assert.Equal(shown, reserved.Items!);

        var pricedFirst = Guid.CreateVersion7();
        await ApplyAsync(new InventoryReservedV2(pricedFirst, "u", priced, 1001.50m, "EUR"));
        await ApplyAsync(new PaymentAuthorizedV1(pricedFirst, Guid.CreateVersion7(), 1001.50m, "EUR"));
        await ApplyAsync(new InventorySoldV1(pricedFirst, [new SkuQuantity("M-8", 2), new SkuQuantity("M-9", 1)]));
        var confirmed = await ApplyAsync(new OrderCreatedV1(pricedFirst, "u", asked, 0.03m, "EUR", DateTimeOffset.UtcNow));
        Assert.Equal((OrderStatus.Confirmed, 1001.50m, "u"), (confirmed.Status, confirmed.Amount, confirmed.UserId));
        Assert.Equal(shown, confirmed.Items!);
    }

    [Fact]
    public async Task Replayed_v1_reservations_from_before_the_rollout_still_settle_the_order_at_its_own_amount()
    {
        var id = Guid.CreateVersion7();
        await ApplyAsync(new OrderCreatedV1(id, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow));
        var reserved = await ApplyAsync(new InventoryReservedV1(id, "u", Lines, 3.00m, "EUR"));
        Assert.Contains(reserved.Timeline, t => t.Type == Topics.InventoryReservedV1);
        await ApplyAsync(new PaymentAuthorizedV1(id, Guid.CreateVersion7(), 3.00m, "EUR"));
        var confirmed = await ApplyAsync(new InventorySoldV1(id, [new SkuQuantity("M-1", 1)]));
        Assert.Equal((OrderStatus.Confirmed, 3.00m), (confirmed.Status, confirmed.Amount));
        Assert.Equal(Lines, confirmed.Items!);

        // The same v1 event replayed (its own event id): applied once, nothing moves.
        var eventId = reserved.Timeline.Single(t => t.Type == Topics.InventoryReservedV1).EventId;
        await materializer.Kafka.ProduceEventAsync(new InventoryReservedV1(id, "u", Lines, 3.00m, "EUR"), eventId);
        await materializer.WaitCaughtUpAsync("order-materializer", Topics.InventoryReservedV1);
        var after = await ViewAsync(id);
        Assert.Equal((OrderStatus.Confirmed, confirmed.SettledAt, 4), (after!.Status, after.SettledAt, after.Timeline.Count));
    }

    [Fact]
    public async Task A_declined_order_fails_whatever_order_its_events_come_in_and_never_moves_back()
    {
        var id = Guid.CreateVersion7();
        await ApplyAsync(new InventoryReleasedV1(id, [new SkuQuantity("M-1", 1)], FailureReasons.PaymentDeclined));
        await ApplyAsync(new OrderCreatedV1(id, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow));
        var failed = await ApplyAsync(new PaymentFailedV1(id, Guid.CreateVersion7(), FailureReasons.PaymentDeclined));
        Assert.Equal((OrderStatus.Failed, FailureReasons.PaymentDeclined), (failed.Status, failed.Reason));

        // A late, contradicting event is recorded in the timeline but cannot move a settled order.
        var after = await ApplyAsync(new PaymentAuthorizedV1(id, Guid.CreateVersion7(), 3.00m, "EUR"));
        Assert.Equal((OrderStatus.Failed, FailureReasons.PaymentDeclined, failed.SettledAt), (after.Status, after.Reason, after.SettledAt));
    }

    [Fact]
    public async Task An_authorization_confirms_nothing_until_inventory_sells_and_after_a_timeout_it_never_does()
    {
        var id = Guid.CreateVersion7();
        await ApplyAsync(new OrderCreatedV1(id, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow));
        await ApplyAsync(new InventoryReservedV1(id, "u", Lines, 3.00m, "EUR"));
        // The late authorization reaches the materializer before inventory's timeout release: still PENDING.
        Assert.Equal(OrderStatus.Pending, (await ApplyAsync(new PaymentAuthorizedV1(id, Guid.CreateVersion7(), 3.00m, "EUR"))).Status);
        var failed = await ApplyAsync(new InventoryReleasedV1(id, [new SkuQuantity("M-1", 1)], FailureReasons.SagaTimeout));
        Assert.Equal((OrderStatus.Failed, FailureReasons.SagaTimeout), (failed.Status, failed.Reason));
        var voided = await ApplyAsync(new PaymentVoidedV1(id, Guid.CreateVersion7(), 3.00m, "EUR", FailureReasons.SagaTimeout));
        Assert.Equal((OrderStatus.Failed, FailureReasons.SagaTimeout, failed.SettledAt), (voided.Status, voided.Reason, voided.SettledAt));
        Assert.Contains(voided.Timeline, t => t.Type == Topics.PaymentVoided);
    }

    [Fact]
    public async Task A_confirmed_order_moves_on_to_cancelled_with_the_clients_reason_once_inventory_returned_it()
    {
        var id = Guid.CreateVersion7();
        await ApplyAsync(new OrderCreatedV1(id, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow));
        await ApplyAsync(new InventoryReservedV1(id, "u", Lines, 3.00m, "EUR"));
        await ApplyAsync(new PaymentAuthorizedV1(id, Guid.CreateVersion7(), 3.00m, "EUR"));
        Assert.Equal(OrderStatus.Confirmed, (await ApplyAsync(new InventorySoldV1(id, [new SkuQuantity("M-1", 1)]))).Status);
        // Inventory's return can overtake the cancel request on another topic: the view waits for the reason.
        Assert.Equal(OrderStatus.Confirmed, (await ApplyAsync(new InventoryReturnedV1(id, [new SkuQuantity("M-1", 1)], FailureReasons.Cancelled))).Status);
        var cancelled = await ApplyAsync(new OrderCancelRequestedV1(id, "found it cheaper", DateTimeOffset.UtcNow));
        Assert.Equal((OrderStatus.Cancelled, "found it cheaper"), (cancelled.Status, cancelled.Reason));
        var refunded = await ApplyAsync(new PaymentRefundedV1(id, Guid.CreateVersion7(), 3.00m, "EUR", FailureReasons.Cancelled));
        Assert.Equal((OrderStatus.Cancelled, "found it cheaper"), (refunded.Status, refunded.Reason));

        var updates = await Eventually.Get(() => Task.FromResult(materializer.EventsOf(Topics.OrderUpdated, id) is { Count: 2 } u ? u : null),
            TimeSpan.FromSeconds(20), "two order.updated events");
        Assert.Equal([OrderStatus.Confirmed, OrderStatus.Cancelled], updates.Select(u => u.Payload.Deserialize<OrderUpdatedV1>(EventJson.Options)!.Status));
    }

    [Fact]
    public async Task A_view_is_read_in_one_snapshot_so_its_timeline_never_runs_ahead_of_its_status()
    {
        var id = Guid.CreateVersion7();
        await ApplyAsync(new OrderCreatedV1(id, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow));

        // Transactions commit back to back, each adding a timeline entry and setting the view's reason to
        // the number of entries the order then has, as the materializer's own transactions change a
        // view's status together with its timeline. Every read must show a pair that was committed together.
        using var stop = new CancellationTokenSource();
        var commits = 0;
        var writer = Task.Run(async () =>
        {
            await using var conn = new Npgsql.NpgsqlConnection(materializer.ConnectionString);
            await conn.OpenAsync();
            for (var entries = 2; !stop.IsCancellationRequested; entries++)
            {
                await using var tx = await conn.BeginTransactionAsync();
                await using var write = new Npgsql.NpgsqlCommand("""
                    INSERT INTO order_timeline (order_id, event_id, type, occurred_at) VALUES (@id, @eventId, 'test.tick', now());
                    UPDATE order_view SET reason = @entries::text WHERE order_id = @id;
                    """, conn, tx);
                write.Parameters.AddWithValue("id", id);
                write.Parameters.AddWithValue("eventId", Guid.CreateVersion7());
                write.Parameters.AddWithValue("entries", entries);
                await write.ExecuteNonQueryAsync();
                await tx.CommitAsync();
                Interlocked.Increment(ref commits);
            }
        });

        var reads = 0;
        try
        {
            for (var clock = System.Diagnostics.Stopwatch.StartNew(); (clock.Elapsed < TimeSpan.FromSeconds(3) || Volatile.Read(ref commits) < 200) && clock.Elapsed < TimeSpan.FromSeconds(30) && !writer.IsCompleted; reads++)
            {
                var view = (await ViewAsync(id))!;
                if (view.Reason is { } entries) Assert.Equal(int.Parse(entries), view.Timeline.Count);
            }
        }
        finally
        {
            stop.Cancel();
            await writer;
        }
        Assert.True(reads >= 100 && commits >= 200, $"{reads} reads while {commits} commits");
    }

    [Fact]
    public async Task A_view_that_another_transaction_creates_first_still_gets_every_fact()
    {
        // The materializer inserts the view of an order it has not seen whole. Here another transaction
        // creates that view between the materializer's lock and its insert (as a second consumer on the
        // same order could during a rebalance): the insert waits for it, fails on the key, and the event
        // is applied again onto the view that now exists, instead of being lost.
        var id = Guid.CreateVersion7();
        await using var other = new Npgsql.NpgsqlConnection(materializer.ConnectionString);
        await other.OpenAsync();
        await using var tx = await other.BeginTransactionAsync();
        await using (var create = new Npgsql.NpgsqlCommand("INSERT INTO order_view (order_id) VALUES (@id)", other, tx))
        {
            create.Parameters.AddWithValue("id", id);
            await create.ExecuteNonQueryAsync();
        }

        var eventId = Guid.CreateVersion7();
        await materializer.Kafka.ProduceEventAsync(new OrderCreatedV1(id, "first-writer-lost", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow), eventId);
        await Eventually.True(async () => await materializer.QueryOneAsync<long>(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()") > 0,
            TimeSpan.FromSeconds(10), "the materializer's insert to wait for the other transaction's view");
        await tx.CommitAsync();

        var view = await Eventually.Get(async () => await ViewAsync(id) is { UserId: not null } v ? v : null, TimeSpan.FromSeconds(10), "the order's fields on its view");
        Assert.Equal(("first-writer-lost", 3.00m, OrderStatus.Pending), (view.UserId, view.Amount, view.Status));
        Assert.Equal(eventId, Assert.Single(view.Timeline).EventId);
        Assert.DoesNotContain(materializer.Kafka.ReadAll(Topics.DeadLetter(Topics.OrderCreated)), m => System.Text.Encoding.UTF8.GetString(m.Message.Key!) == id.ToString());
    }

    [Fact]
    public async Task Stuck_orders_are_listed_oldest_first_with_how_far_their_saga_got()
    {
        var old = Guid.CreateVersion7();
        await ApplyAsync(new OrderCreatedV1(old, "stuck-user", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow.AddMinutes(-10)));
        await ApplyAsync(new InventoryReservedV2(old, "stuck-user", [new PricedLine("M-1", 1, 3.00m)], 3.00m, "EUR"));
        var fresh = Guid.CreateVersion7();
        await ApplyAsync(new OrderCreatedV1(fresh, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow));
        var settled = Guid.CreateVersion7();
        await ApplyAsync(new OrderCreatedV1(settled, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow.AddMinutes(-10)));
        await ApplyAsync(new InventoryFailedV1(settled, FailureReasons.OutOfStock, "M-1"));

        var stuck = (await materializer.Http.GetFromJsonAsync<JsonElement>("/orders/stuck?olderThan=300")).GetProperty("orders").EnumerateArray().ToList();
        var mine = Assert.Single(stuck, o => o.GetProperty("orderId").GetGuid() == old);
        Assert.Equal("stuck-user", mine.GetProperty("userId").GetString());
        Assert.True(mine.GetProperty("ageSeconds").GetDouble() >= 590);
        Assert.Equal([Topics.OrderCreated, Topics.InventoryReserved], mine.GetProperty("events").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(stuck, o => o.GetProperty("orderId").GetGuid() == fresh || o.GetProperty("orderId").GetGuid() == settled);

        var bad = await materializer.Http.GetAsync("/orders/stuck?olderThan=soon&limit=0");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var errors = (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("olderThan", out _) && errors.TryGetProperty("limit", out _));
    }

    [Fact]
    public async Task The_redis_entry_follows_every_change()
    {
        using var redis = await ConnectionMultiplexer.ConnectAsync(materializer.Redis.Configuration);
        var id = Guid.CreateVersion7();
        OrderView? Cached() => redis.GetDatabase().StringGet(OrderView.CacheKey(id)) is { IsNullOrEmpty: false } v
            ? JsonSerializer.Deserialize<OrderView>((byte[])v!, EventJson.Options) : null;

        await ApplyAsync(new OrderCreatedV1(id, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow));
        await Eventually.True(() => Task.FromResult(Cached()?.Status == OrderStatus.Pending), TimeSpan.FromSeconds(5), "the pending view in Redis");
        await ApplyAsync(new InventoryFailedV1(id, FailureReasons.OutOfStock, "M-1"));
        var cached = await Eventually.Get(() => Task.FromResult(Cached() is { Status: OrderStatus.Failed } c ? c : null), TimeSpan.FromSeconds(5), "the failed view in Redis");
        Assert.Equal(FailureReasons.OutOfStock, cached.Reason);
        Assert.Equal(2, cached.Timeline.Count);
    }

    [Fact]
    public async Task A_backlog_folded_in_batches_gives_every_order_its_own_view_one_update_per_change_and_its_cache_entry()
    {
        // Stopped, so the backlog is waiting when the consumer starts and several events of one order
        // land in the same transaction, folded in memory before one write.
        await materializer.Service.StopAsync();
        var confirmed = Enumerable.Range(0, 60).Select(_ => Guid.CreateVersion7()).ToList();
        var declined = Enumerable.Range(0, 20).Select(_ => Guid.CreateVersion7()).ToList();
        var sold = new[] { new SkuQuantity("M-1", 1) };
        var events = new List<(Guid OrderId, Guid EventId, Func<Task> Produce)>();
        void Add<TEvent>(TEvent evt) where TEvent : IEvent
        {
            var eventId = Guid.CreateVersion7();
            events.Add((evt.OrderId, eventId, () => materializer.Kafka.ProduceEventAsync(evt, eventId)));
        }
        foreach (var id in confirmed)
        {
            // Worst order first: the sale before the order itself.
            Add(new InventorySoldV1(id, sold));
            Add(new PaymentAuthorizedV1(id, Guid.CreateVersion7(), 3.00m, "EUR"));
            Add(new InventoryReservedV1(id, "u", Lines, 3.00m, "EUR"));
            Add(new OrderCreatedV1(id, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow));
        }
        foreach (var id in declined)
        {
            Add(new OrderCreatedV1(id, "u", Lines, 3.00m, "EUR", DateTimeOffset.UtcNow));
            Add(new PaymentFailedV1(id, Guid.CreateVersion7(), FailureReasons.PaymentDeclined));
            Add(new InventoryReleasedV1(id, sold, FailureReasons.PaymentDeclined));
        }
        foreach (var e in events) await e.Produce();
        // Redeliveries of the same events in the same backlog change nothing.
        foreach (var e in events.Take(50)) await e.Produce();
        await materializer.Service.StartAsync();

        foreach (var id in confirmed.Concat(declined))
            await Eventually.Get(async () => await ViewAsync(id) is { Status: not OrderStatus.Pending } v ? v : null, TimeSpan.FromSeconds(30), $"order {id} to settle");

        var all = confirmed.Concat(declined).ToHashSet();
        var updates = await Eventually.Get(() =>
        {
            var mine = materializer.Kafka.ReadAll(Topics.OrderUpdated)
                .Select(m => JsonSerializer.Deserialize<Envelope>(m.Message.Value!, EventJson.Options)!.Payload.Deserialize<OrderUpdatedV1>(EventJson.Options)!)
                .Where(u => all.Contains(u.OrderId)).ToList();
            return Task.FromResult(mine.Count >= all.Count ? mine : null);
        }, TimeSpan.FromSeconds(30), "an order.updated for every order");

        using var redis = await ConnectionMultiplexer.ConnectAsync(materializer.Redis.Configuration);
        foreach (var (ids, status, reason, eventCount) in new[] { (confirmed, OrderStatus.Confirmed, (string?)null, 4), (declined, OrderStatus.Failed, FailureReasons.PaymentDeclined, 3) })
        foreach (var id in ids)
        {
            var view = (await ViewAsync(id))!;
            Assert.Equal((status, reason, 3.00m, "u"), (view.Status, view.Reason, view.Amount, view.UserId));
            Assert.Equal(eventCount, view.Timeline.Count);
            Assert.Equal(events.Where(e => e.OrderId == id).Select(e => e.EventId).Order(), view.Timeline.Select(t => t.EventId).Order());
            Assert.Equal(status, Assert.Single(updates, u => u.OrderId == id).Status);
            var cached = JsonSerializer.Deserialize<OrderView>((byte[])(await redis.GetDatabase().StringGetAsync(OrderView.CacheKey(id)))!, EventJson.Options)!;
            Assert.Equal((view.Status, view.Timeline.Count), (cached.Status, cached.Timeline.Count));
        }

        // Batches of several events of several orders were applied in one transaction each.
        Assert.True(materializer.Service.CountOutput("applied in one transaction") > 0, materializer.Service.RecentOutput());
        Assert.Equal(0, materializer.Service.CountOutput("applying them one by one"));
    }
}
