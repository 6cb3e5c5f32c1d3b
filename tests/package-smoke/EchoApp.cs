// A new user's first app, built against the packed Pigato package only (tests/package-smoke/run): a broker, a worker and a
// client in one process; every reply checked. Exits 0 on success.
using Pigato;

await using var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0" });
await broker.StartAsync();
await using var worker = new Worker(new WorkerOptions { Endpoint = broker.Endpoint!, Service = "echo" }, (data, reply, _) => reply.EndAsync(data));
await worker.StartAsync();
await using var client = new Client(new ClientOptions { Endpoint = broker.Endpoint! });
await client.StartAsync();

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
for (var i = 0; i < 100; i++)
{
    var answer = await client.RequestAsync<int>("echo", i, cancellationToken: timeout.Token);
    if (answer != i)
    {
        Console.Error.WriteLine($"echo {i} answered {answer}");
        return 1;
    }
}

Console.WriteLine("echo: 100 replies checked");
return 0;
