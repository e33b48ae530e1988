using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using OrderStream.Inventory.Data;
using OrderStream.Inventory.Domain;
using OrderStream.Inventory.Http;
using OrderStream.Messaging;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace OrderStream.Inventory.Handlers;

/// <summary>
/// Syncs each vendor's stock on its own schedule (<see cref="VendorOptions.Interval"/>), first at start. The saga
/// never waits on a vendor: the consumer does no HTTP, and this loop holds no lock while it calls; a SKU's row lock
/// is taken only after the answer is in hand, for one short transaction. A vendor that is down, slow or answering
/// nonsense fails its sync within the call's timeouts (or at once while its circuit is open), its SKUs keep their
/// last known stock, and the next interval tries again. One loop per vendor, so a slow one delays no other.
/// </summary>
public sealed partial class SyncVendorStock(IOptions<VendorOptions> options, IHttpClientFactory clients, NpgsqlDataSource db, OutboxSignal signal,
    VendorStatusBoard board, ILogger<SyncVendorStock> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken ct)
    {
        await Task.Yield(); // never hold up the host's start
        var settings = options.Value;
        await Task.WhenAll(settings.List.Select(vendor => RunAsync(vendor, settings.Interval, ct)));
    }

    private async Task RunAsync(VendorEndpoint vendor, TimeSpan interval, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(interval);
        do await SyncAsync(vendor, ct);
        while (await timer.WaitForNextTickAsync(ct));
    }

    /// <summary>One sync of one vendor; never throws but on shutdown.</summary>
    public async Task SyncAsync(VendorEndpoint vendor, CancellationToken ct)
    {
        try
        {
            var answer = await clients.CreateClient(VendorClients.Name(vendor.Name)).GetFromJsonAsync<List<VendorItem?>>("stock", ct);
            var (found, missing) = VendorStock.Match(answer, vendor.Skus);
            var applied = await VendorStockStore.SyncAsync(db, signal, vendor.Name, found, ct);
            board.Succeeded(vendor.Name, applied);
            if (missing.Count > 0) LogMissing(vendor.Name, string.Join(", ", missing));
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            var state = ex is BrokenCircuitException ? VendorStates.CircuitOpen : VendorStates.Failing;
            var error = Describe(ex);
            board.Failed(vendor.Name, state, error);
            LogFailed(vendor.Name, state, error, board.Get(vendor.Name).LastSuccessAt);
        }
    }

    // What an operator needs on /admin/inventory/vendors: the cause, without a stack trace.
    private static string Describe(Exception ex) => ex switch
    {
        BrokenCircuitException => "not called: its circuit is open after repeated failures",
        TimeoutRejectedException => "no answer in time",
        HttpRequestException { StatusCode: { } status } => $"answered {(int)status} {status}",
        HttpRequestException => "unreachable: " + ex.Message,
        JsonException => "the answer is not a stock list: " + ex.Message,
        InvalidVendorAnswerException => "invalid answer: " + ex.Message,
        NpgsqlException => "the stock could not be written: " + ex.Message,
        _ => $"{ex.GetType().Name}: {ex.Message}",
    };

    [LoggerMessage(Level = LogLevel.Warning, Message = "Vendor {Vendor}: sync failed ({State}: {Error}); its SKUs keep the stock of the last good sync ({LastSuccessAt})")]
    private partial void LogFailed(string vendor, string state, string error, DateTimeOffset? lastSuccessAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Vendor {Vendor} did not report {VendorSkus}; they keep their last known stock")]
    private partial void LogMissing(string vendor, string vendorSkus);
}
