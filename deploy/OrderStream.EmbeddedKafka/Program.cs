using OrderStream.Contracts;
using OrderStream.EmbeddedKafka;

// Hosts the embedded Kafka-protocol cluster for the local stack: creates every saga and dead-letter
// topic, writes the bootstrap address to --bootstrap-file (for the runner) and stdout, then waits.
var brokers = IntArg("--brokers", 1);
var partitions = IntArg("--partitions", 12);
var bootstrapFile = Arg("--bootstrap-file");

using var cluster = new EmbeddedKafkaCluster(brokers);
foreach (var topic in Topics.AllWithDeadLetters())
    cluster.CreateTopic(topic, partitions);

if (bootstrapFile is not null)
{
    var tmp = bootstrapFile + ".tmp";
    File.WriteAllText(tmp, cluster.BootstrapServers);
    File.Move(tmp, bootstrapFile, overwrite: true);
}
Console.WriteLine($"embedded kafka: bootstrap {cluster.BootstrapServers}, {brokers} broker(s), {partitions} partitions per topic");

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.TrySetResult();
await stop.Task;
if (bootstrapFile is not null) File.Delete(bootstrapFile);

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
int IntArg(string name, int fallback) => int.TryParse(Arg(name), out var v) ? v : fallback;
