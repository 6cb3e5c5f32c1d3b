// Durable requests from the packed Pigato and Pigato.Persistence.Sqlite packages (tests/package-smoke/run): a broker on a
// SQLite file answers persist requests; a second broker on the same file starts with nothing left to run. Exits 0 on success.
using Pigato;
using Pigato.Persistence;

var file = Path.Combine(Path.GetTempPath(), $"pigato-smoke-{Guid.NewGuid():N}.db");
try
{
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
    await using (var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", Store = SqliteRequestStore.At(file) }))
    {
        await broker.StartAsync();
        await using var worker = new Worker(new WorkerOptions { Endpoint = broker.Endpoint!, Service = "pay" }, (data, reply, _) => reply.EndAsync(data));
        await worker.StartAsync();
        await using var client = new Client(new ClientOptions { Endpoint = broker.Endpoint! });
        await client.StartAsync();
        for (var i = 0; i < 20; i++)
        {
            if (await client.RequestAsync<int>("pay", i, new RequestOptions { Persist = true }, timeout.Token) != i)
            {
                Console.Error.WriteLine($"persist request {i} answered wrongly");
                return 1;
            }
        }
    }

    await using var again = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", Store = SqliteRequestStore.At(file) });
    await again.StartAsync();
    var held = (await again.GetStatsAsync()).StoredRequests;
    if (held != 0)
    {
        Console.Error.WriteLine($"the store still holds {held} answered requests");
        return 1;
    }

    Console.WriteLine("durable: 20 persist replies checked on SQLite, none left in the store");
    return 0;
}
finally
{
    foreach (var path in Directory.GetFiles(Path.GetDirectoryName(file)!, Path.GetFileName(file) + "*"))
    {
        File.Delete(path);
    }
}
