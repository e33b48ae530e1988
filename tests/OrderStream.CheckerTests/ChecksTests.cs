using OrderStream.Checker;
using OrderStream.Contracts;
using OrderStream.Messaging;

namespace OrderStream.CheckerTests;

/// <summary>The pure part of the checker, on hand-made books: no database, no broker.</summary>
public sealed class ChecksTests
{
    private const string Confirmed = "00000000-0000-0000-0000-000000000001";
    private const string Declined = "00000000-0000-0000-0000-000000000002";
    private const string OutOfStock = "00000000-0000-0000-0000-000000000003";
    private static readonly CheckOptions Options = new("g", "i", "p", "m");

    /// <summary>Three orders, one per outcome, with books that agree: SKU A received 10, 2 sold, 8 available.</summary>
    private static Books Clean() => new()
    {
        AcceptedOrders = [Confirmed, Declined, OutOfStock],
        OutboxEvents =
        [
            .. new[] { Confirmed, Declined, OutOfStock }.Select(id => new OutboxEventCount(Service.Gateway, id, Topics.OrderCreated, 1)),
            new(Service.Inventory, Confirmed, Topics.InventoryReserved, 1),
            new(Service.Inventory, Declined, Topics.InventoryReserved, 1),
            new(Service.Inventory, Declined, Topics.InventoryReleased, 1),
            new(Service.Inventory, OutOfStock, Topics.InventoryFailed, 1),
            new(Service.Payment, Confirmed, Topics.PaymentAuthorized, 1),
            new(Service.Payment, Declined, Topics.PaymentFailed, 1),
        ],
        Stock = [new StockRow("A", 8, 0, 2, 10)],
        Reservations = [new(Confirmed, "A", 2, "SOLD"), new(Declined, "A", 3, "RELEASED")],
        Payments = [new(Confirmed, "AUTHORIZED"), new(Declined, "DECLINED")],
        Views =
        [
            new(Confirmed, OrderStatus.Confirmed, null, true, null, true, null),
            new(Declined, OrderStatus.Failed, FailureReasons.PaymentDeclined, true, null, false, FailureReasons.PaymentDeclined),
            new(OutOfStock, OrderStatus.Failed, FailureReasons.OutOfStock, false, FailureReasons.OutOfStock, false, null),
        ],
        Timeline =
        [
            new(Confirmed, Topics.OrderCreated, 1), new(Confirmed, Topics.InventoryReserved, 1), new(Confirmed, Topics.PaymentAuthorized, 1),
            new(Declined, Topics.OrderCreated, 1), new(Declined, Topics.InventoryReserved, 1), new(Declined, Topics.PaymentFailed, 1), new(Declined, Topics.InventoryReleased, 1),
            new(OutOfStock, Topics.OrderCreated, 1), new(OutOfStock, Topics.InventoryFailed, 1),
        ],
        SoldByConfirmedOrders = [new SkuTotal("A", 2)],
        Outboxes = Enum.GetValues<Service>().Select(s => new OutboxStats(s, 0, 3, 0, 0.2, 0.1)).ToList(),
    };

    private static readonly KafkaState EmptyKafka = new([], [], []);

    [Fact]
    public void Books_that_agree_pass_every_check()
    {
        var report = Checks.Evaluate(Clean(), EmptyKafka, Options, quiet: true);
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(1, report.Totals.Confirmed);
        Assert.Equal(2, report.Totals.Failed);
        Assert.Equal(new Dictionary<string, long> { ["SOLD"] = 1, ["RELEASED"] = 1 }, report.Totals.ReservationsByStatus);
    }

    [Fact]
    public void An_order_both_reserved_and_failed_by_inventory_is_a_conflict_and_a_duplicate_decision()
    {
        var books = Clean();
        books = books with { OutboxEvents = [.. books.OutboxEvents, new(Service.Inventory, Confirmed, Topics.InventoryFailed, 1)] };
        var report = Checks.Evaluate(books, EmptyKafka, Options, quiet: true);
        Assert.Equal(
            [CheckNames.DuplicateInventoryDecisions, CheckNames.ConflictingOutcomes, CheckNames.InventoryFailedAlone],
            report.Failures.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Contains("inventory outbox reserved+failed", report[CheckNames.ConflictingOutcomes].Examples.Single());
    }

    [Fact]
    public void Examples_are_capped_but_every_offender_is_counted()
    {
        var books = Clean() with { AcceptedOrders = [.. Enumerable.Range(10, 25).Select(i => $"00000000-0000-0000-0000-0000000000{i}"), Confirmed, Declined, OutOfStock] };
        var report = Checks.Evaluate(books, EmptyKafka, Options with { ExampleLimit = 3 }, quiet: true);
        Assert.Equal(25, report[CheckNames.Unsettled].Count);
        Assert.Equal(3, report[CheckNames.Unsettled].Examples.Count);
        Assert.Contains("; ...", report.ToString());
    }

    [Fact]
    public void A_dead_letter_that_does_not_say_where_it_came_from_is_unaccounted_for()
    {
        var accounted = new DeadLetter("order.created.v1.dlq", 0, 0, "k", DateTimeOffset.UnixEpoch, new Dictionary<string, string>
        {
            [DeadLetterHeaders.OriginalTopic] = Topics.OrderCreated,
            [DeadLetterHeaders.OriginalPartition] = "3",
            [DeadLetterHeaders.OriginalOffset] = "17",
            [DeadLetterHeaders.ConsumerGroup] = "inventory",
            [DeadLetterHeaders.ErrorMessage] = "Malformed event",
        });
        var bare = new DeadLetter("order.created.v1.dlq", 1, 5, "k", DateTimeOffset.UnixEpoch, new Dictionary<string, string>());
        var report = Checks.Evaluate(Clean(), new KafkaState([], [], [accounted, bare]), Options, quiet: true);

        var finding = report[CheckNames.DeadLettersUnaccounted];
        Assert.Equal(1, finding.Count);
        Assert.Equal(["order.created.v1.dlq [1] @5"], finding.Examples);
        Assert.Contains("order.created.v1.dlq [0] @0 <- order.created.v1 [3] @17 by inventory", report.ToString());
    }

    [Fact]
    public void Skipped_duplicates_are_messages_minus_inbox_rows_minus_dead_letters_and_unknown_while_a_group_lags()
    {
        var books = Clean() with { Inbox = [new(Service.Payment, "payment", Topics.InventoryReserved, 40)] };
        var letter = new DeadLetter("inventory.reserved.v1.dlq", 0, 0, null, DateTimeOffset.UnixEpoch, new Dictionary<string, string>
        {
            [DeadLetterHeaders.OriginalTopic] = Topics.InventoryReserved, [DeadLetterHeaders.OriginalPartition] = "0",
            [DeadLetterHeaders.OriginalOffset] = "0", [DeadLetterHeaders.ConsumerGroup] = "payment", [DeadLetterHeaders.ErrorMessage] = "x",
        });
        var topics = new List<TopicState> { new(Topics.InventoryReserved, 4, 44) };

        var quiet = Checks.Evaluate(books, new KafkaState(topics, [new("payment", Topics.InventoryReserved, 0)], [letter]), Options, quiet: true);
        Assert.Equal(3, quiet.Consumers.Single(c => c.Group == "payment").SkippedDuplicates);

        var lagging = Checks.Evaluate(books, new KafkaState(topics, [new("payment", Topics.InventoryReserved, 2)], [letter]), Options, quiet: false);
        Assert.Null(lagging.Consumers.Single(c => c.Group == "payment").SkippedDuplicates);
        Assert.Equal(2, lagging[CheckNames.ConsumerLag].Count);
    }
}
