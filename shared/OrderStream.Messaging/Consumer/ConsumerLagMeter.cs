using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrderStream.Messaging.Consumer;

/// <summary>
/// Measures <see cref="ConsumerLag"/> from the consumer loop, at most every two seconds, and publishes it
/// as the <c>orderstream.consumer.lag</c> gauge.
/// </summary>
internal sealed class ConsumerLagMeter
{
    private readonly ConsumerLag _lag;
    private readonly IConsumeInterceptor[] _interceptors;
    private readonly ILogger<ConsumerLagMeter> _logger;
    private long _measuredAt;

    public ConsumerLagMeter(ConsumerLag lag, IEnumerable<IConsumeInterceptor> interceptors, IOptions<KafkaOptions> options, ILogger<ConsumerLagMeter> logger)
    {
        (_lag, _interceptors, _logger) = (lag, interceptors.ToArray(), logger);
        KeyValuePair<string, object?> group = new("messaging.consumer.group.name", options.Value.GroupId);
        MessagingTelemetry.Meter.CreateObservableGauge("orderstream.consumer.lag", () => _lag.ByTopic.Select(l =>
                new Measurement<long>(l.Value, new("messaging.destination.name", l.Key), group)),
            "{message}", "Messages behind the end of each topic, summed over this consumer's partitions");
    }

    // Watermarks come from the consumer's last fetch responses (no broker round trip), so this is cheap.
    // Paused partitions are not fetched, though, so their cached ends stop moving while records keep
    // arriving: then the ends (and, for a partition never consumed, the committed offset) are asked of
    // the broker, so an operator watching a paused consumer sees its lag grow.
    public void Measure(IConsumer<byte[]?, byte[]?> consumer)
    {
        if (Environment.TickCount64 - _measuredAt < 2_000) return;
        _measuredAt = Environment.TickCount64;
        var paused = _interceptors.Any(i => i.Paused);
        try
        {
            var assignment = consumer.Assignment;
            var positions = assignment.ToDictionary(tp => tp, tp => consumer.Position(tp).Value);
            if (paused && positions.Any(p => p.Value < 0))
                foreach (var committed in consumer.Committed(positions.Where(p => p.Value < 0).Select(p => p.Key), TimeSpan.FromSeconds(1)))
                    positions[committed.TopicPartition] = committed.Offset.Value;
            _lag.Set(assignment
                .Select(tp => (tp.Topic, High: End(tp, out var low), Position: positions[tp] >= 0 ? positions[tp] : paused ? low : -1))
                .Where(p => p.High >= 0 && p.Position >= 0)
                .GroupBy(p => p.Topic)
                .ToDictionary(g => g.Key, g => g.Sum(p => Math.Max(0, p.High - p.Position))));
        }
        catch (KafkaException ex)
        {
            // The broker did not answer in time: keep the last measurement rather than hold up the loop.
            _logger.LogDebug(ex, "Lag not measured");
        }

        long End(TopicPartition tp, out long low)
        {
            var w = paused ? consumer.QueryWatermarkOffsets(tp, TimeSpan.FromSeconds(1)) : consumer.GetWatermarkOffsets(tp);
            low = w.Low.Value;
            return w.High.Value;
        }
    }
}
