using Npgsql;
using OrderStream.TestSupport;

namespace OrderStream.IntegrationTests;

/// <summary>Service databases are created by deploy/postgres/service-database.sql, as in production.</summary>
public sealed class DatabaseIsolationTests
{
    [Fact]
    public async Task A_service_role_can_use_its_own_database_and_cannot_reach_another()
    {
        var inventory = PostgresServer.Instance.CreateDatabase("inventory");
        var payment = PostgresServer.Instance.CreateDatabase("payment");

        await using (var own = new NpgsqlConnection(inventory))
        {
            await own.OpenAsync();
            await new NpgsqlCommand("CREATE TABLE t (id int); INSERT INTO t VALUES (1);", own).ExecuteNonQueryAsync();
            await using var reader = await new NpgsqlCommand("SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user", own).ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal((false, false, false), (reader.GetBoolean(0), reader.GetBoolean(1), reader.GetBoolean(2)));
            await reader.DisposeAsync();

            // It owns exactly one database, its own, and may neither create databases nor roles.
            var owned = new List<string>();
            await using (var dbs = await new NpgsqlCommand("SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = current_user)", own).ExecuteReaderAsync())
                while (await dbs.ReadAsync()) owned.Add(dbs.GetString(0));
            Assert.Equal([new NpgsqlConnectionStringBuilder(inventory).Database!], owned);
            foreach (var sql in new[] { "CREATE DATABASE intruder", "CREATE ROLE intruder", "ALTER ROLE current_user SUPERUSER" })
            {
                var refused = await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand(sql, own).ExecuteNonQueryAsync());
                Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
            }
        }

        var intruder = new NpgsqlConnectionStringBuilder(inventory) { Database = new NpgsqlConnectionStringBuilder(payment).Database };
        await using var other = new NpgsqlConnection(intruder.ConnectionString);
        var denied = await Assert.ThrowsAsync<PostgresException>(() => other.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
    }
}
