using System.Reflection;
using System.Text.RegularExpressions;
using OrderStream.Contracts;
using OrderStream.Inventory.Data;
using OrderStream.OrderMaterializer.Data;
using OrderStream.Payment.Data;

namespace OrderStream.UnitTests;

/// <summary>
/// Statuses are defined once, in <c>OrderStream.Contracts/Statuses.cs</c>. The migrations are the one
/// place that must spell them as literals (CHECK constraints, partial indexes, defaults): these tests
/// read the migrations the services embed and apply, and fail when a literal and its constant part.
/// </summary>
public partial class MigrationLiteralTests
{
    private static readonly Assembly Materializer = typeof(OrderViewStore).Assembly;
    private static readonly Assembly Inventory = typeof(OrderHoldStore).Assembly;
    private static readonly Assembly Payment = typeof(PaymentStore).Assembly;
    private static readonly Assembly Fulfilment = typeof(OrderStream.Fulfilment.Data.ShipmentStore).Assembly;

    public static TheoryData<string, string, string, Type> CheckedColumns => new()
    {
        { Materializer.GetName().Name!, "order_view", "status", typeof(OrderStatus) },
        { Payment.GetName().Name!, "payments", "status", typeof(PaymentStatus) },
        { Inventory.GetName().Name!, "inventory_orders", "status", typeof(HoldStatus) },
        { Inventory.GetName().Name!, "reservations", "status", typeof(ReservationStatus) },
        { Inventory.GetName().Name!, "stock_receipts", "kind", typeof(AdjustmentKinds) },
        { Fulfilment.GetName().Name!, "shipments", "status", typeof(ShipmentStatus) },
    };

    [Theory]
    [MemberData(nameof(CheckedColumns))]
    public void The_latest_CHECK_constraint_of_a_column_allows_exactly_the_constants(string assembly, string table, string column, Type constants)
    {
        var check = new Regex($@"CHECK\s*\(\s*{column}\s+IN\s*\(([^)]*)\)\s*\)", RegexOptions.IgnoreCase);
        var last = Statements(Load(assembly))
            .Where(s => Regex.IsMatch(s, $@"^\s*(CREATE|ALTER)\s+TABLE\s+{table}\b", RegexOptions.IgnoreCase))
            .SelectMany(s => check.Matches(s)).LastOrDefault();
        Assert.True(last is not null, $"no CHECK ({column} IN (...)) on {table} in {assembly}'s migrations");
        var allowed = Quoted().Matches(last.Groups[1].Value).Select(m => m.Groups[1].Value).Order(StringComparer.Ordinal);
        Assert.Equal(Constants(constants).Order(StringComparer.Ordinal), allowed);
    }

    [Theory]
    [InlineData("OrderStream.OrderMaterializer", "order_view_pending", OrderStatus.Pending)]
    [InlineData("OrderStream.OrderMaterializer", "order_view_unshipped", OrderStatus.Confirmed)]
    [InlineData("OrderStream.Inventory", "inventory_orders_reserved", HoldStatus.Reserved)]
    public void A_partial_index_is_built_on_the_literal_its_queries_splice_in(string assembly, string index, string status)
    {
        // OrderViewStore's stuck-order queries and OrderHoldStore's deadline scan splice the constant into
        // their SQL text, so PostgreSQL can match them to these indexes in every plan.
        var last = Statements(Load(assembly)).LastOrDefault(s => Regex.IsMatch(s, $@"^\s*CREATE\s+INDEX\s+{index}\b", RegexOptions.IgnoreCase));
        Assert.True(last is not null, $"no index {index} in {assembly}'s migrations");
        Assert.Equal(status, Regex.Match(last, @"WHERE\s+status\s*=\s*'([^']*)'", RegexOptions.IgnoreCase).Groups[1].Value);
    }

    [Fact]
    public void A_new_view_row_starts_pending()
    {
        var created = Statements(Load(Materializer.GetName().Name!)).First(s => Regex.IsMatch(s, @"^\s*CREATE\s+TABLE\s+order_view\b", RegexOptions.IgnoreCase));
        Assert.Equal(OrderStatus.Pending, Regex.Match(created, @"\bstatus\s+text\s+NOT NULL\s+DEFAULT\s+'([^']*)'", RegexOptions.IgnoreCase).Groups[1].Value);
    }

    [Fact]
    public void Every_code_a_migration_spells_out_is_a_defined_constant()
    {
        var known = new[] { typeof(OrderStatus), typeof(PaymentStatus), typeof(HoldStatus), typeof(ReservationStatus), typeof(AdjustmentKinds), typeof(FailureReasons) }
            .SelectMany(Constants).ToHashSet(StringComparer.Ordinal);
        var spelled = new[] { Materializer, Inventory, Payment }
            .SelectMany(a => Statements(Load(a.GetName().Name!)))
            .SelectMany(s => Quoted().Matches(s)).Select(m => m.Groups[1].Value)
            .Where(v => Regex.IsMatch(v, "^[A-Z][A-Z_]*$")).Distinct().ToList();
        Assert.NotEmpty(spelled);
        Assert.All(spelled, v => Assert.Contains(v, known));
    }

    private static IEnumerable<string> Constants(Type type) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static)
            .Where(f => f.IsLiteral && f.FieldType == typeof(string)).Select(f => (string)f.GetRawConstantValue()!);

    /// <summary>An assembly's migrations as the services apply them: in version order, comments removed, one statement each.</summary>
    private static IEnumerable<string> Statements(IEnumerable<string> scripts) =>
        scripts.SelectMany(sql => Regex.Replace(sql, "--[^\n]*", "").Split(';')).Where(s => !string.IsNullOrWhiteSpace(s));

    private static List<string> Load(string assemblyName)
    {
        var assembly = new[] { Materializer, Inventory, Payment, Fulfilment }.Single(a => a.GetName().Name == assemblyName);
        var scripts = assembly.GetManifestResourceNames()
            .Where(n => n.Contains(".Migrations.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(n =>
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(n)!);
                return reader.ReadToEnd();
            }).ToList();
        Assert.NotEmpty(scripts);
        return scripts;
    }

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex Quoted();
}
