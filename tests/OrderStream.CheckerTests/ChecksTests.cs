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
    private const string TimedOut = "00000000-0000-0000-0000-000000000004";
    private const string CancelledEarly = "00000000-0000-0000-0000-000000000005";
    private const string Refunded = "00000000-0000-0000-0000-000000000006";
    private const string Shipped = "00000000-0000-0000-0000-000000000007";
    private const string CancelReason = "changed my mind";
    private static readonly CheckOptions Options = new(Catalogue.SagaServices.ToDictionary(s => s.Database!, s => "Database=" + s.Database));

    /// <summary>
    /// Seven orders, one per outcome, with books that agree: SKU A received 10, 3 sold, 7 available. Besides
    /// confirmed, declined and out of stock: one timed out (its late authorization voided), one cancelled
    /// before inventory saw it, one cancelled after it was confirmed (returned and refunded), and one shipped.
    /// </summary>
    private static Books Clean() => new()
    {
        AcceptedOrders = [Confirmed, Declined, OutOfStock, TimedOut, CancelledEarly, Refunded, Shipped],
        OutboxEvents =
        [
            .. new[] { Confirmed, Declined, OutOfStock, TimedOut, CancelledEarly, Refunded, Shipped }.Select(id => new OutboxEventCount(Catalogue.ApiGateway, id, Topics.OrderCreated, 1)),
            new(Catalogue.ApiGateway, Shipped, Topics.OrderShipRequested, 1),
            new(Catalogue.Inventory, Shipped, Topics.InventoryReserved, 1),
            new(Catalogue.Inventory, Shipped, Topics.InventorySold, 1),
            new(Catalogue.Payment, Shipped, Topics.PaymentAuthorized, 1),
            new(Catalogue.Fulfilment, Shipped, Topics.ShipmentDispatched, 1),
            new(Catalogue.ApiGateway, CancelledEarly, Topics.OrderCancelRequested, 1),
            new(Catalogue.ApiGateway, Refunded, Topics.OrderCancelRequested, 1),
            new(Catalogue.Inventory, Confirmed, Topics.InventoryReserved, 1),
            new(Catalogue.Inventory, Confirmed, Topics.InventorySold, 1),
            new(Catalogue.Inventory, TimedOut, Topics.InventoryReserved, 1),
            new(Catalogue.Inventory, TimedOut, Topics.InventoryReleased, 1),
            new(Catalogue.Inventory, CancelledEarly, Topics.InventoryReleased, 1),
            new(Catalogue.Inventory, Refunded, Topics.InventoryReserved, 1),
            new(Catalogue.Inventory, Refunded, Topics.InventorySold, 1),
            new(Catalogue.Inventory, Refunded, Topics.InventoryReturned, 1),
            new(Catalogue.Payment, TimedOut, Topics.PaymentAuthorized, 1),
            new(Catalogue.Payment, TimedOut, Topics.PaymentVoided, 1),
            new(Catalogue.Payment, Refunded, Topics.PaymentAuthorized, 1),
            new(Catalogue.Payment, Refunded, Topics.PaymentRefunded, 1),
            new(Catalogue.Inventory, Declined, Topics.InventoryReserved, 1),
            new(Catalogue.Inventory, Declined, Topics.InventoryReleased, 1),
            new(Catalogue.Inventory, OutOfStock, Topics.InventoryFailed, 1),
            new(Catalogue.Payment, Confirmed, Topics.PaymentAuthorized, 1),
            new(Catalogue.Payment, Declined, Topics.PaymentFailed, 1),
        ],
        Stock = [new StockRow("A", 7, 0, 3, 10)],
        Reservations = [new(Confirmed, "A", 2, "SOLD"), new(Declined, "A", 3, "RELEASED"), new(TimedOut, "A", 1, "RELEASED"), new(Refunded, "A", 2, "RETURNED"),
            new(Shipped, "A", 1, "SOLD")],
        InventoryOrders =
        [
            new(Confirmed, "SOLD", null), new(Declined, "RELEASED", FailureReasons.PaymentDeclined), new(OutOfStock, "FAILED", FailureReasons.OutOfStock),
            new(TimedOut, "RELEASED", FailureReasons.SagaTimeout), new(CancelledEarly, "RELEASED", FailureReasons.Cancelled), new(Refunded, "RETURNED", FailureReasons.Cancelled),
            new(Shipped, "SOLD", null),
        ],
        Payments = [new(Confirmed, "AUTHORIZED"), new(Declined, "DECLINED"), new(TimedOut, "VOIDED"), new(Refunded, "REFUNDED"), new(Shipped, "AUTHORIZED")],
        Views =
        [
            new(Confirmed, OrderStatus.Confirmed, null, true, null, true, null, SeenSold: true),
            new(Declined, OrderStatus.Failed, FailureReasons.PaymentDeclined, true, null, false, FailureReasons.PaymentDeclined, FailureReasons.PaymentDeclined),
            new(OutOfStock, OrderStatus.Failed, FailureReasons.OutOfStock, false, FailureReasons.OutOfStock, false, null),
            new(TimedOut, OrderStatus.Failed, FailureReasons.SagaTimeout, true, null, true, null, FailureReasons.SagaTimeout),
            new(CancelledEarly, OrderStatus.Cancelled, CancelReason, false, null, false, null, FailureReasons.Cancelled),
            new(Refunded, OrderStatus.Cancelled, CancelReason, true, null, true, null, SeenSold: true, SeenReturned: true),
            new(Shipped, OrderStatus.Shipped, null, true, null, true, null, SeenSold: true),
        ],
        Timeline =
        [
            new(Confirmed, Topics.OrderCreated, 1), new(Confirmed, Topics.InventoryReserved, 1), new(Confirmed, Topics.PaymentAuthorized, 1), new(Confirmed, Topics.InventorySold, 1),
            new(Declined, Topics.OrderCreated, 1), new(Declined, Topics.InventoryReserved, 1), new(Declined, Topics.PaymentFailed, 1), new(Declined, Topics.InventoryReleased, 1),
            new(OutOfStock, Topics.OrderCreated, 1), new(OutOfStock, Topics.InventoryFailed, 1),
            new(TimedOut, Topics.OrderCreated, 1), new(TimedOut, Topics.InventoryReserved, 1), new(TimedOut, Topics.InventoryReleased, 1),
            new(TimedOut, Topics.PaymentAuthorized, 1), new(TimedOut, Topics.PaymentVoided, 1),
            new(CancelledEarly, Topics.OrderCreated, 1), new(CancelledEarly, Topics.OrderCancelRequested, 1), new(CancelledEarly, Topics.InventoryReleased, 1),
            new(Refunded, Topics.OrderCreated, 1), new(Refunded, Topics.InventoryReserved, 1), new(Refunded, Topics.PaymentAuthorized, 1), new(Refunded, Topics.InventorySold, 1),
            new(Refunded, Topics.OrderCancelRequested, 1), new(Refunded, Topics.InventoryReturned, 1), new(Refunded, Topics.PaymentRefunded, 1),
            new(Shipped, Topics.OrderCreated, 1), new(Shipped, Topics.InventoryReserved, 1), new(Shipped, Topics.PaymentAuthorized, 1), new(Shipped, Topics.InventorySold, 1),
            new(Shipped, Topics.OrderShipRequested, 1), new(Shipped, Topics.ShipmentDispatched, 1),
        ],
        SoldByConfirmedOrders = [new SkuTotal("A", 3)],
        ShipRequests = [Shipped],
        // The confirmed order's goods await a ship request; the shipped one's left once.
        Shipments = [new(Confirmed, ShipmentStatus.Awaiting), new(Shipped, ShipmentStatus.Dispatched)],
        Outboxes = CheckedServices.All.Select(s => new OutboxStats(s, 0, 3, 0, 0.2, 0.1)).ToList(),
    };

    private static readonly KafkaState EmptyKafka = new([], [], []);

    [Fact]
    public void Books_that_agree_pass_every_check()
    {
        var report = Checks.Evaluate(Clean(), EmptyKafka, Options, quiet: true);
        Assert.True(report.Passed, report.ToString());
        Assert.Equal(1, report.Totals.Confirmed);
        Assert.Equal(3, report.Totals.Failed);
        Assert.Equal(2, report.Totals.Cancelled);
        Assert.Equal(1, report.Totals.Shipped);
        Assert.Equal((2, 1, 1, 1), (report.Totals.PaymentsAuthorized, report.Totals.PaymentsDeclined, report.Totals.PaymentsVoided, report.Totals.PaymentsRefunded));
        Assert.Equal(2, report.Totals.Outcomes["CANCELLED"]);
        Assert.Equal(new Dictionary<string, long> { ["SOLD"] = 2, ["RELEASED"] = 2, ["RETURNED"] = 1 }, report.Totals.ReservationsByStatus);
    }

    private static Books Replace<T>(IReadOnlyList<T> rows, Func<T, bool> match, T with, Func<IReadOnlyList<T>, Books> into) =>
        into(rows.Select(r => match(r) ? with : r).ToList());

    /// <summary>Each compensation bug the books can show, and exactly the checks that must report it (with the order).</summary>
    private static readonly Dictionary<string, (Func<Books, Books> Corrupt, string[] Failing, string Order)> CompensationBugs = new()
    {
        ["a timed-out order's late authorization never voided"] = (b => Replace(b.Payments, p => p.OrderId == TimedOut, new PaymentRow(TimedOut, "AUTHORIZED"), rows => b with { Payments = rows }),
            [CheckNames.ConfirmedConsistency, CheckNames.TimedOutCompensated], TimedOut),
        ["a timed-out order shown as declined"] = (b => Replace(b.Views, v => v.OrderId == TimedOut,
                new ViewRow(TimedOut, OrderStatus.Failed, FailureReasons.PaymentDeclined, true, null, true, null, FailureReasons.SagaTimeout), rows => b with { Views = rows }),
            [CheckNames.DeclinedCompensated, CheckNames.TimedOutCompensated, CheckNames.VoidedAfterRelease], TimedOut),
        ["a timed-out order whose reservation was sold"] = (b => Replace(b.Reservations, r => r.OrderId == TimedOut, new ReservationRow(TimedOut, "A", 1, "SOLD"), rows => b with { Reservations = rows }),
            [CheckNames.ConfirmedConsistency, CheckNames.StockVsReservations, CheckNames.TimedOutCompensated, CheckNames.VoidedAfterRelease], TimedOut),
        ["a returned order's lines still SOLD"] = (b => Replace(b.Reservations, r => r.OrderId == Refunded, new ReservationRow(Refunded, "A", 2, "SOLD"), rows => b with { Reservations = rows }),
            [CheckNames.CancelledCompensated, CheckNames.ConfirmedConsistency, CheckNames.StockVsReservations], Refunded),
        ["a returned order never refunded"] = (b => Replace(b.Payments, p => p.OrderId == Refunded, new PaymentRow(Refunded, "AUTHORIZED"), rows => b with { Payments = rows }),
            [CheckNames.CancelledCompensated, CheckNames.ConfirmedConsistency], Refunded),
        ["a cancelled order still PENDING"] = (b => Replace(b.Views, v => v.OrderId == CancelledEarly,
                new ViewRow(CancelledEarly, OrderStatus.Pending, null, false, null, false, null, FailureReasons.Cancelled), rows => b with { Views = rows }),
            [CheckNames.Unsettled, CheckNames.CancelledCompensated], CancelledEarly),
        ["a cancelled order that kept a captured payment"] = (b => b with { Payments = [.. b.Payments, new PaymentRow(CancelledEarly, "AUTHORIZED")] },
            [CheckNames.CancelledCompensated, CheckNames.ConfirmedConsistency], CancelledEarly),
        ["a confirmed order's payment voided"] = (b => Replace(b.Payments, p => p.OrderId == Confirmed, new PaymentRow(Confirmed, "VOIDED"), rows => b with { Payments = rows }),
            [CheckNames.ConfirmedConsistency, CheckNames.VoidedAfterRelease], Confirmed),
        ["a timed-out reservation released twice"] = (b => b with { OutboxEvents = [.. b.OutboxEvents, new(Catalogue.Inventory, TimedOut, Topics.InventoryReleased, 1)] },
            [CheckNames.DuplicateReleases], TimedOut),
        ["a timed-out order also sold"] = (b => b with { OutboxEvents = [.. b.OutboxEvents, new(Catalogue.Inventory, TimedOut, Topics.InventorySold, 1)] },
            [CheckNames.ConflictingOutcomes], TimedOut),
        ["a cancel requested twice"] = (b => b with { OutboxEvents = [.. b.OutboxEvents, new(Catalogue.ApiGateway, Refunded, Topics.OrderCancelRequested, 1)] },
            [CheckNames.DuplicateCancelRequests], Refunded),
        ["a refund paid twice"] = (b => b with { OutboxEvents = [.. b.OutboxEvents, new(Catalogue.Payment, Refunded, Topics.PaymentRefunded, 1)] },
            [CheckNames.DuplicatePayments], Refunded),
        ["a shipment dispatched twice"] = (b => b with { OutboxEvents = [.. b.OutboxEvents, new(Catalogue.Fulfilment, Shipped, Topics.ShipmentDispatched, 1)] },
            [CheckNames.DuplicateShipments], Shipped),
        ["a returned and refunded order shipped"] = (b => b with { Shipments = [.. b.Shipments, new ShipmentRow(Refunded, ShipmentStatus.Dispatched)] },
            [CheckNames.ShippedConsistency, CheckNames.ShipRequestsFulfilled], Refunded),
        ["a ship request never dispatched"] = (b => b with { ShipRequests = [.. b.ShipRequests, Confirmed] },
            [CheckNames.ShipRequestsFulfilled], Confirmed),
        ["an order shown SHIPPED that never left"] = (b => Replace(b.Views, v => v.OrderId == Confirmed,
                new ViewRow(Confirmed, OrderStatus.Shipped, null, true, null, true, null, SeenSold: true), rows => b with { Views = rows }),
            [CheckNames.ShippedConsistency], Confirmed),
    };

    public static TheoryData<string> CompensationBugNames => new(CompensationBugs.Keys);

    [Theory]
    [MemberData(nameof(CompensationBugNames))]
    public void A_compensation_bug_is_reported_by_exactly_its_checks(string name)
    {
        var (corrupt, failing, order) = CompensationBugs[name];
        var report = Checks.Evaluate(corrupt(Clean()), EmptyKafka, Options, quiet: true);
        Assert.Equal(failing.Order(StringComparer.Ordinal), report.Failures.Select(f => f.Name).Order(StringComparer.Ordinal));
        // Stock checks name the SKU; every other check names the order.
        Assert.All(failing.Where(c => !c.StartsWith("stock.", StringComparison.Ordinal)),
            check => Assert.Contains(report[check].Examples, e => e.Contains(order, StringComparison.Ordinal)));
    }

    [Fact]
    public void A_decline_that_lost_the_race_to_a_cancel_is_consistent()
    {
        // Payment declined, but the cancel released the reservation first: CANCELLED, reservation RELEASED, nothing captured.
        var books = Clean();
        books = books with { Payments = [.. books.Payments, new PaymentRow(CancelledEarly, "DECLINED")] };
        books = books with { Reservations = [.. books.Reservations, new ReservationRow(CancelledEarly, "A", 1, "RELEASED")] };
        var report = Checks.Evaluate(books, EmptyKafka, Options, quiet: true);
        Assert.True(report.Passed, report.ToString());
    }

    [Fact]
    public void An_order_both_reserved_and_failed_by_inventory_is_a_conflict_and_a_duplicate_decision()
    {
        var books = Clean();
        books = books with { OutboxEvents = [.. books.OutboxEvents, new(Catalogue.Inventory, Confirmed, Topics.InventoryFailed, 1)] };
        var report = Checks.Evaluate(books, EmptyKafka, Options, quiet: true);
        Assert.Equal(
            [CheckNames.DuplicateInventoryDecisions, CheckNames.ConflictingOutcomes, CheckNames.InventoryFailedAlone],
            report.Failures.Select(f => f.Name).Order(StringComparer.Ordinal));
        Assert.Contains("inventory outbox reserved+failed", report[CheckNames.ConflictingOutcomes].Examples.Single());
    }

    [Fact]
    public void Examples_are_capped_but_every_offender_is_counted()
    {
        var books = Clean() with { AcceptedOrders = [.. Enumerable.Range(10, 25).Select(i => $"00000000-0000-0000-0000-0000000000{i}"), .. Clean().AcceptedOrders] };
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
        var books = Clean() with { Inbox = [new(Catalogue.Payment, "payment", Topics.InventoryReserved, 40)] };
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

    [Fact]
    public void The_report_names_a_service_by_its_label_in_the_text_and_by_its_key_in_the_json()
    {
        var books = Clean() with { Inbox = [new(Catalogue.Payment, "payment", Topics.InventoryReserved, 40)] };
        var report = Checks.Evaluate(books, EmptyKafka, Options, quiet: true);

        Assert.Contains("  Gateway      0 unsent, 3 sent;", report.ToString());
        Assert.Contains("  Materializer 0 unsent, 3 sent;", report.ToString());
        using var json = System.Text.Json.JsonDocument.Parse(report.ToJson());
        Assert.Equal(CheckedServices.All.Select(s => s.Key),
            json.RootElement.GetProperty("outboxes").EnumerateArray().Select(o => o.GetProperty("service").GetString()));
        Assert.Equal(CheckedServices.All.Where(s => s.IsConsumer).Select(s => s.Key),
            json.RootElement.GetProperty("consumers").EnumerateArray().Select(c => c.GetProperty("service").GetString()));
    }
}
