// PIGATO's examples/stocks: `worker` streams daily quotes; `client TICKER [FROM] [TO]` prints them as they arrive.
using System.Text.Json;
using Pigato;
using Pigato.Examples;

const string Endpoint = "tcp://127.0.0.1:55555";

if (args.FirstOrDefault() == "worker")
{
    await using var worker = Worker.Create<QuoteQuery>(new WorkerOptions { Endpoint = Endpoint, Service = StocksService.Name }, StocksService.HandleAsync);
    await worker.StartAsync();
    Console.WriteLine($"stocks worker {worker.Id} started ({StocksService.All.Count} quotes); Ctrl+C to stop");
    await CtrlC.WaitAsync();
    return 0;
}

if (args.FirstOrDefault() != "client" || args.Length < 2)
{
    Console.Error.WriteLine("usage: Pigato.Examples.Stocks worker | client TICKER [FROM yyyy-mm-dd] [TO yyyy-mm-dd]");
    return 2;
}

await using var client = new Client(new ClientOptions { Endpoint = Endpoint });
await client.StartAsync();
var query = new QuoteQuery(args[1], args.Length > 2 ? DateOnly.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : null, args.Length > 3 ? DateOnly.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : null);
await foreach (var reply in client.RequestStreamAsync<JsonElement>(StocksService.Name, query))
{
    Console.WriteLine(reply.IsFinal ? $"{reply.Data} quotes" : reply.Data.GetRawText());
}

return 0;
