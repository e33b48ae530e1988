using System.Text.Json;
using Microsoft.AspNetCore.Components;
using OrderStream.Dashboard.Gateway;

namespace OrderStream.Dashboard.Live;

/// <summary>
/// A page that shows live state: it loads once, then polls about every second from the server and
/// re-renders over the circuit. A poll that fails (the gateway crashed or restarting) sets
/// <see cref="Unreachable"/> instead of throwing, so the circuit survives and the next poll recovers.
/// </summary>
public abstract class LivePage : ComponentBase, IDisposable
{
    private readonly CancellationTokenSource _stop = new();

    [Inject] protected GatewayClient Gateway { get; set; } = null!;

    /// <summary>Why the last poll failed; null after one that worked.</summary>
    protected string? Unreachable { get; private set; }

    /// <summary>True once a poll has worked: before that there is nothing to show but a spinner.</summary>
    protected bool Loaded { get; private set; }

    protected virtual TimeSpan Interval => TimeSpan.FromSeconds(1);

    protected CancellationToken Stopping => _stop.Token;

    /// <summary>Reads what the page shows. Runs on the circuit's context, so it may set fields freely.</summary>
    protected abstract Task RefreshAsync(CancellationToken ct);

    protected override async Task OnInitializedAsync()
    {
        await PollOnceAsync();
        _ = PollAsync();
    }

    /// <summary>Polls now, outside the timer: after the user changed something, to show its effect at once.</summary>
    protected async Task PollOnceAsync()
    {
        try
        {
            await RefreshAsync(_stop.Token);
            Unreachable = null;
            Loaded = true;
        }
        catch (Exception ex) when (IsGatewayFailure(ex) && !_stop.IsCancellationRequested)
        {
            Unreachable = ex.Message;
        }
    }

    private async Task PollAsync()
    {
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stop.Token))
                await InvokeAsync(async () =>
                {
                    await PollOnceAsync();
                    StateHasChanged();
                });
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { } // the circuit went away between two ticks
    }

    public static bool IsGatewayFailure(Exception ex) =>
        ex is HttpRequestException or TaskCanceledException or GatewayException or JsonException or NotSupportedException;

    public virtual void Dispose()
    {
        _stop.Cancel();
        _stop.Dispose();
        GC.SuppressFinalize(this);
    }
}
