using System.Reflection;
using Dapper;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace OrderStream.Hosting;

/// <summary>
/// Applies numbered <c>Migrations/NNN_name.sql</c> files embedded in the given assemblies, each once,
/// recorded in <c>schema_migrations</c>. All of it runs in one transaction under an advisory lock, so
/// two instances starting together neither race nor leave a half-migrated schema.
/// </summary>
public static class Migrations
{
    private const string Prepare = """
        SELECT pg_advisory_xact_lock(hashtext('orderstream.migrations'));
        CREATE TABLE IF NOT EXISTS schema_migrations (
            scope      text        NOT NULL,
            version    text        NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (scope, version));
        """;

    public static async Task ApplyAsync(NpgsqlDataSource db, IEnumerable<Assembly> assemblies, ILogger logger, CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(Prepare, transaction: tx, cancellationToken: ct));
        var applied = (await conn.QueryAsync<(string, string)>(new CommandDefinition("SELECT scope, version FROM schema_migrations", transaction: tx, cancellationToken: ct))).ToHashSet();

        foreach (var assembly in assemblies.Distinct())
        {
            var scope = assembly.GetName().Name!;
            var scripts = assembly.GetManifestResourceNames()
                .Where(n => n.Contains(".Migrations.", StringComparison.Ordinal) && n.EndsWith(".sql", StringComparison.Ordinal))
                .Select(n => (Resource: n, Version: n[(n.IndexOf(".Migrations.", StringComparison.Ordinal) + 12)..^4]))
                .OrderBy(s => s.Version, StringComparer.Ordinal);
            foreach (var (resource, version) in scripts)
            {
                if (applied.Contains((scope, version))) continue;
                await using var stream = assembly.GetManifestResourceStream(resource)!;
                var sql = await new StreamReader(stream).ReadToEndAsync(ct);
                await conn.ExecuteAsync(new CommandDefinition(sql, transaction: tx, cancellationToken: ct));
                await conn.ExecuteAsync(new CommandDefinition("INSERT INTO schema_migrations (scope, version) VALUES (@scope, @version)", new { scope, version }, tx, cancellationToken: ct));
                logger.LogInformation("Applied migration {Scope} {Version}", scope, version);
            }
        }
        await tx.CommitAsync(ct);
    }
}
