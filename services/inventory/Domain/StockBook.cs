using OrderStream.Contracts;

namespace OrderStream.Inventory.Domain;

/// <summary>
/// The holds, reservation lines and stock rows one transaction works on, loaded (and locked) once:
/// the saga steps of a whole batch of events change them here, in memory and in order, and
/// <see cref="Changes"/> is what gets written back before the commit. Every step keeps
/// available + reserved + sold of a SKU unchanged and never takes a figure below zero.
/// </summary>
public sealed class StockBook
{
    private readonly Dictionary<Guid, OrderEntry> _orders;
    private readonly Dictionary<string, StockLevel> _stock;
    private readonly Dictionary<string, ProductPrice> _prices;
    private readonly HashSet<string> _changedSkus = new(StringComparer.Ordinal);

    /// <summary>A reservation line: the units of one SKU an order holds, and what became of them.</summary>
    public sealed record Line(Guid OrderId, string Sku, int Qty, string Status);

    /// <param name="holds">The status of every order in the transaction (<see cref="HoldStatus.New"/> for one inventory has not seen).</param>
    /// <param name="lines">The reservation lines of those orders.</param>
    /// <param name="stock">The stock rows of every SKU those orders hold or ask for (a SKU missing here is unknown).</param>
    /// <param name="prices">The catalogue prices of the SKUs the orders being created ask for (a SKU missing here is not for sale).</param>
    public StockBook(IReadOnlyDictionary<Guid, string> holds, IEnumerable<Line> lines, IEnumerable<StockLevel> stock, IEnumerable<ProductPrice> prices)
    {
        _prices = prices.ToDictionary(p => p.Sku, StringComparer.Ordinal);
        _orders = holds.ToDictionary(h => h.Key, h => new OrderEntry(h.Value));
        foreach (var line in lines) _orders[line.OrderId].Load(line);
        _stock = stock.ToDictionary(s => s.Sku, StringComparer.Ordinal);
    }

    public string Status(Guid orderId) => Order(orderId).Status;

    /// <summary>
    /// Reserves every line of a NEW order or none, priced from the catalogue in <paramref name="currency"/>: the order
    /// becomes RESERVED (its trace kept for the deadline) or FAILED with the decision's reason.
    /// </summary>
    public ReservationDecision Reserve(Guid orderId, IEnumerable<OrderLine> items, string currency, (string? TraceParent, string? TraceState) trace)
    {
        var order = Expect(orderId, HoldStatus.New);
        var decision = Reservation.Decide(_stock, _prices, items, currency);
        if (!decision.Ok)
        {
            order.Close(HoldStatus.Failed, decision.FailureReason);
            return decision;
        }
        foreach (var line in decision.Lines)
        {
            Move(line.Sku, available: -line.Qty, reserved: line.Qty);
            order.Lines.Add(new Line(orderId, line.Sku, line.Qty, ReservationStatus.Reserved));
        }
        order.Close(HoldStatus.Reserved, null);
        order.ReservedTrace = trace;
        return decision;
    }

    /// <summary>The reservation becomes a sale: reserved units move to sold; the order is SOLD.</summary>
    public IReadOnlyList<SkuQuantity> Sell(Guid orderId) =>
        MoveLines(Expect(orderId, HoldStatus.Reserved), ReservationStatus.Reserved, ReservationStatus.Sold, HoldStatus.Sold, null,
            qty => (0, -qty, qty));

    /// <summary>
    /// The reservation goes back to available stock and the order is RELEASED with <paramref name="reason"/>.
    /// A NEW order (cancelled before its order.created came) is closed with nothing to give back, so it is never reserved.
    /// </summary>
    public IReadOnlyList<SkuQuantity> Release(Guid orderId, string? reason) =>
        MoveLines(Expect(orderId, HoldStatus.Reserved, HoldStatus.New), ReservationStatus.Reserved, ReservationStatus.Released, HoldStatus.Released, reason,
            qty => (qty, -qty, 0));

    /// <summary>A sale goes back to available stock (a confirmed order cancelled); the order is RETURNED.</summary>
    public IReadOnlyList<SkuQuantity> Return(Guid orderId, string? reason) =>
        MoveLines(Expect(orderId, HoldStatus.Sold), ReservationStatus.Sold, ReservationStatus.Returned, HoldStatus.Returned, reason, qty => (qty, 0, -qty));

    /// <summary>What the steps changed, to write back: orders, reservation lines (new or moved) and stock rows.</summary>
    public BookChanges Changes() => new(
        _orders.Where(o => o.Value.Changed)
            .Select(o => new HoldChange(o.Key, o.Value.IsNew, o.Value.Status, o.Value.Reason, o.Value.ReservedTrace)).ToList(),
        _orders.Values.SelectMany(o => o.ChangedLines).ToList(),
        _changedSkus.Select(sku => _stock[sku]).ToList());

    private IReadOnlyList<SkuQuantity> MoveLines(OrderEntry order, string from, string to, string status, string? reason,
        Func<int, (long Available, long Reserved, long Sold)> move)
    {
        var moved = new List<SkuQuantity>();
        for (var i = 0; i < order.Lines.Count; i++)
        {
            var line = order.Lines[i];
            if (line.Status != from) continue;
            var (available, reserved, sold) = move(line.Qty);
            Move(line.Sku, available, reserved, sold);
            order.Lines[i] = line with { Status = to };
            moved.Add(new SkuQuantity(line.Sku, line.Qty));
        }
        order.Close(status, reason);
        return moved.OrderBy(l => l.Sku, StringComparer.Ordinal).ToList();
    }

    private void Move(string sku, long available = 0, long reserved = 0, long sold = 0)
    {
        var level = _stock[sku];
        var next = level with { Available = level.Available + available, Reserved = level.Reserved + reserved, Sold = level.Sold + sold };
        if (next.Available < 0 || next.Reserved < 0 || next.Sold < 0)
            throw new InvalidOperationException($"Stock of {sku} would go below zero: {next}");
        _stock[sku] = next;
        _changedSkus.Add(sku);
    }

    private OrderEntry Order(Guid orderId) =>
        _orders.TryGetValue(orderId, out var order) ? order : throw new InvalidOperationException($"Order {orderId} was not loaded into this transaction's book");

    // A step the saga rules do not allow is a bug in the caller: refused, never counted.
    private OrderEntry Expect(Guid orderId, params string[] statuses)
    {
        var order = Order(orderId);
        if (!statuses.Contains(order.Status)) throw new InvalidOperationException($"Order {orderId} is {order.Status}, not {string.Join(" or ", statuses)}");
        return order;
    }

    private sealed class OrderEntry(string status)
    {
        private readonly HashSet<Line> _loaded = [];
        /// <summary>Inventory had no row for the order: a decision inserts one (NEW is never stored).</summary>
        public bool IsNew { get; } = status == HoldStatus.New;
        public string Status { get; private set; } = status;
        public string? Reason { get; private set; }
        public bool Changed { get; private set; }
        public (string? TraceParent, string? TraceState)? ReservedTrace { get; set; }
        public List<Line> Lines { get; } = [];

        /// <summary>Lines added or moved since loading (a record compares by value, so a moved line is no longer the loaded one).</summary>
        public IEnumerable<Line> ChangedLines => Lines.Where(l => !_loaded.Contains(l));

        public void Load(Line line)
        {
            Lines.Add(line);
            _loaded.Add(line);
        }

        public void Close(string status, string? reason) => (Status, Reason, Changed) = (status, reason, true);
    }
}

/// <summary>
/// An order as a transaction leaves it; <see cref="IsNew"/> when inventory had no row for it before (the
/// row is inserted), <see cref="ReservedTrace"/> when it was reserved in it (the deadline counts from then).
/// </summary>
public sealed record HoldChange(Guid OrderId, bool IsNew, string Status, string? Reason, (string? TraceParent, string? TraceState)? ReservedTrace);

/// <summary>What a transaction's book changed. An order nothing was decided for (a payment result for an order inventory never saw) is in none of it.</summary>
public sealed record BookChanges(IReadOnlyList<HoldChange> Holds, IReadOnlyList<StockBook.Line> Lines, IReadOnlyList<StockLevel> Stock)
{
    /// <summary>Nothing to write back (every event of the transaction was a no-op, e.g. a late payment result).</summary>
    public bool IsEmpty => Holds.Count == 0 && Lines.Count == 0 && Stock.Count == 0;
}
