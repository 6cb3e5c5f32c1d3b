// PIGATO's examples/broker: a broker on tcp://*:55555 with the $dir directory service, until Ctrl+C.
using Pigato;
using Pigato.Examples;

await using var broker = new Broker(new BrokerOptions { Endpoint = args.FirstOrDefault() ?? "tcp://*:55555", EnableDirectory = true });
broker.Error += (_, e) => Console.Error.WriteLine(e);
await broker.StartAsync();
Console.WriteLine($"Broker started on {broker.Endpoint}; Ctrl+C to stop");

await CtrlC.WaitAsync();
