using OrderStream.Contracts;
using OrderStream.EmbeddedKafka;

// Hosts the embedded Kafka-protocol cluster for the local stack: creates every saga and dead-letter
// topic, writes the bootstrap address to --bootstrap-file (for the runner) and stdout, trims the
// records every consumer group has committed past (--trim-interval-ms, 0 = never; --retain), then waits.
var brokers = IntArg("--brokers", 1);
var partitions = IntArg("--partitions", 12);
var bootstrapFile = Arg("--bootstrap-file");
var trimInterval = TimeSpan.FromMilliseconds(IntArg("--trim-interval-ms", 1_000));
var retain = IntArg("--retain", 1_000);

using var cluster = new EmbeddedKafkaCluster(brokers);
foreach (var topic in Topics.AllWithDeadLetters())
    cluster.CreateTopic(topic, partitions);

if (bootstrapFile is not null)
{
    var tmp = bootstrapFile + ".tmp";
    File.WriteAllText(tmp, cluster.BootstrapServers);
    File.Move(tmp, bootstrapFile, overwrite: true);
}
Console.WriteLine($"embedded kafka: bootstrap {cluster.BootstrapServers}, {brokers} broker(s), {partitions} partitions per topic, librdkafka {Confluent.Kafka.Library.VersionString}");

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();
if (trimInterval > TimeSpan.Zero)
{
    using var trimmer = new ConsumedRecordTrimmer(cluster, ConsumerGroups.Defaults, partitions, retain);
    using var timer = new PeriodicTimer(trimInterval);
    try
    {
        while (await timer.WaitForNextTickAsync(stop.Token))
        {
            try { trimmer.TrimOnce(); }
            catch (Exception ex) when (ex is Confluent.Kafka.KafkaException or InvalidOperationException)
            {
                Console.WriteLine($"trimming skipped: {ex.Message}"); // the next pass tries again
            }
        }
    }
    catch (OperationCanceledException) { }
}
else
{
    try { await Task.Delay(Timeout.Infinite, stop.Token); } catch (OperationCanceledException) { }
}
if (bootstrapFile is not null) File.Delete(bootstrapFile);

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
int IntArg(string name, int fallback) => int.TryParse(Arg(name), out var v) ? v : fallback;
