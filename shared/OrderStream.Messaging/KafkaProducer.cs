using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OrderStream.Messaging;

/// <summary>
/// The process's one Kafka producer (idempotent, acks=all), shared by the outbox relay and the
/// dead-letter writer. A producer that hits a fatal error is replaced: an idempotent producer cannot
/// continue after one, and the outbox will simply publish the unsent rows again.
/// </summary>
public sealed class KafkaProducer(IOptions<KafkaOptions> options, ILogger<KafkaProducer> logger) : IDisposable
{
    private readonly Lock _gate = new();
    private IProducer<byte[]?, byte[]?>? _producer;

    public IProducer<byte[]?, byte[]?> Current
    {
        get
        {
            lock (_gate) return _producer ??= Build();
        }
    }

    public void ReplaceIfFatal(Exception error)
    {
        if (error is not KafkaException { Error.IsFatal: true }) return;
        logger.LogError(error, "Kafka producer hit a fatal error; replacing it");
        lock (_gate)
        {
            _producer?.Dispose();
            _producer = null;
        }
    }

    private IProducer<byte[]?, byte[]?> Build()
    {
        var o = options.Value;
        var config = new ProducerConfig
        {
            BootstrapServers = o.BootstrapServers,
            EnableIdempotence = true,
            Acks = Acks.All,
            LingerMs = o.LingerMs,
            MessageTimeoutMs = o.MessageTimeoutMs,
        };
        return new ProducerBuilder<byte[]?, byte[]?>(config)
            .SetErrorHandler((_, e) => logger.LogWarning("Kafka producer error {Code}: {Reason}", e.Code, e.Reason))
            .SetLogHandler((_, m) => logger.LogDebug("librdkafka {Facility}: {Message}", m.Facility, m.Message))
            .Build();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _producer?.Flush(TimeSpan.FromSeconds(5));
            _producer?.Dispose();
            _producer = null;
        }
    }
}
