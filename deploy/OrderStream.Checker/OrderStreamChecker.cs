using System.Diagnostics;

namespace OrderStream.Checker;

/// <summary>
/// Checks the books of a whole OrderStream deployment after a run: reads every saga service's database (and,
/// when given, the Kafka cluster) and reports what was lost, doubled, stuck or out of balance.
/// Run it when the system is quiet (<see cref="WaitUntilQuietAsync"/>): in-flight work shows up as
/// unsent outbox rows, lag, PENDING orders and reserved stock.
/// </summary>
public sealed class OrderStreamChecker(CheckOptions options)
{
    public CheckOptions Options { get; } = options;

    public async Task<CheckReport> RunAsync(CancellationToken ct = default)
    {
        var quiet = await IsQuietAsync(ct);
        var books = await BooksReader.ReadAsync(Options, ct);
        var kafka = Options.KafkaBootstrapServers is null ? null : await Task.Run(() => KafkaInspector.Read(Options), ct);
        return Checks.Evaluate(books, kafka, Options, quiet);
    }

    /// <summary>
    /// Nothing in flight: every outbox is drained, no group lags (with Kafka), and no outbox row was
    /// written meanwhile. The outboxes are read before and after the lag, because a consumer can
    /// commit new outbox rows (and its offset) between two reads; a row count or id that moved means
    /// work went on, and the probe says "not yet".
    /// </summary>
    public async Task<bool> IsQuietAsync(CancellationToken ct = default) => (await ProbeAsync(ct)).Quiet;

    private sealed record Probe(bool Quiet, string State);

    private async Task<Probe> ProbeAsync(CancellationToken ct)
    {
        var before = await BooksReader.ProbeOutboxesAsync(Options, ct);
        var lags = Options.KafkaBootstrapServers is null ? [] : await Task.Run(() => KafkaInspector.Lags(Options), ct);
        var after = await BooksReader.ProbeOutboxesAsync(Options, ct);
        var quiet = before.All(o => o.Unsent == 0) && lags.All(l => l.Lag == 0) && before.SequenceEqual(after);
        var state = string.Join(", ", after.Select(o => $"{o.Service.Section} outbox {o.Unsent} unsent").Concat(lags.Where(l => l.Lag > 0).Select(l => $"{l.Group}/{l.Topic} lag {l.Lag}")));
        return new Probe(quiet, state);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the system to be quiet, then checks. If it never
    /// gets quiet, it checks anyway: the report then shows what was still in flight.
    /// </summary>
    public async Task<CheckReport> RunWhenQuietAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        try { await WaitUntilQuietAsync(timeout, ct); }
        catch (TimeoutException) { }
        return await RunAsync(ct);
    }

    /// <summary>Polls until the system is quiet; returns how long that took (a recovery time, after a fault).</summary>
    /// <exception cref="TimeoutException">Still busy after <paramref name="timeout"/>; the message says what was in flight.</exception>
    public async Task<TimeSpan> WaitUntilQuietAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var probe = await ProbeAsync(ct);
            if (probe.Quiet) return clock.Elapsed;
            if (clock.Elapsed > timeout) throw new TimeoutException($"Not quiet after {timeout.TotalSeconds:0.#} s: {probe.State}");
            await Task.Delay(TimeSpan.FromMilliseconds(250), ct);
        }
    }
}
