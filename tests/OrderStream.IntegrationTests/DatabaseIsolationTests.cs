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
        }

        var intruder = new NpgsqlConnectionStringBuilder(inventory) { Database = new NpgsqlConnectionStringBuilder(payment).Database };
        await using var other = new NpgsqlConnection(intruder.ConnectionString);
        var denied = await Assert.ThrowsAsync<PostgresException>(() => other.OpenAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, denied.SqlState);
    }
}
