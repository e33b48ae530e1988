using Dapper;
using Npgsql;

namespace OrderStream.Inventory.Data;

/// <summary>The product catalogue (<c>products</c>): read by anyone, written by the role that sets prices.</summary>
public static class ProductStore
{
    /// <summary>A catalogue entry as <c>GET /products</c> answers it.</summary>
    public sealed record Product(string Sku, string Name, decimal UnitPrice, string Currency, DateTimeOffset UpdatedAt);

    private sealed record Row(string Sku, string Name, decimal UnitPrice, string Currency, DateTime UpdatedAt)
    {
        public Product ToProduct() => new(Sku, Name, UnitPrice, Currency, new DateTimeOffset(DateTime.SpecifyKind(UpdatedAt, DateTimeKind.Utc)));
    }

    private const string ListSql = """
        SELECT sku, name, unit_price AS UnitPrice, currency, updated_at AS UpdatedAt
        FROM products WHERE @Sku::text IS NULL OR sku = @Sku ORDER BY sku
        """;

    public static async Task<IReadOnlyList<Product>> ListAsync(NpgsqlDataSource db, string? sku, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<Row>(new CommandDefinition(ListSql, new { Sku = sku }, cancellationToken: ct))).Select(r => r.ToProduct()).ToList();
    }

    // Creates the entry or replaces name and price; the row is what the answer shows. A reservation that
    // read the old price keeps it: an order is priced once, when it is reserved.
    private const string UpsertSql = """
        INSERT INTO products (sku, name, unit_price, currency) VALUES (@Sku, @Name, @UnitPrice, @Currency)
        ON CONFLICT (sku) DO UPDATE SET name = excluded.name, unit_price = excluded.unit_price, currency = excluded.currency, updated_at = now()
        RETURNING sku, name, unit_price AS UnitPrice, currency, updated_at AS UpdatedAt
        """;

    public static async Task<Product> UpsertAsync(NpgsqlDataSource db, string sku, string name, decimal unitPrice, string currency, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleAsync<Row>(new CommandDefinition(UpsertSql,
            new { Sku = sku, Name = name, UnitPrice = unitPrice, Currency = currency }, cancellationToken: ct));
        return row.ToProduct();
    }
}
