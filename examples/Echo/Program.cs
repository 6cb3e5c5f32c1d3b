// PIGATO's examples/echo: `worker`, `client`, or `flood` (100,000 requests, then the time taken).
using System.Diagnostics;
using Pigato;
using Pigato.Examples;

const string Endpoint = "tcp://127.0.0.1:55555";
var mode = args.FirstOrDefault() ?? "client";

switch (mode)
{
    case "worker":
        await using (var worker = new Worker(new WorkerOptions { Endpoint = Endpoint, Service = EchoService.Name, Concurrency = -1 }, EchoService.HandleAsync))
        {
            await worker.StartAsync();
            Console.WriteLine($"echo worker {worker.Id} started; Ctrl+C to stop");
            await CtrlC.WaitAsync();
        }

        break;

    case "client":
        await using (var client = new Client(new ClientOptions { Endpoint = Endpoint }))
        {
            await client.StartAsync();
            Console.WriteLine(await client.RequestAsync<string>(EchoService.Name, "Hello from Pigato for .NET"));
        }

        break;

    case "flood":
        const int Requests = 100_000;
        const int InFlight = 1_000;
        await using (var client = new Client(new ClientOptions { Endpoint = Endpoint }))
        {
            await client.StartAsync();
            var clock = Stopwatch.StartNew();
            using var window = new SemaphoreSlim(InFlight);
            var calls = new List<Task>(Requests);
            for (var i = 0; i < Requests; i++)
            {
                await window.WaitAsync();
                calls.Add(Task.Run(async () =>
                {
                    try
                    {
                        await client.RequestAsync<string>(EchoService.Name, "foo");
                    }
                    finally
                    {
                        window.Release();
                    }
                }));
            }

            await Task.WhenAll(calls);
            Console.WriteLine($"{Requests:N0} requests in {clock.Elapsed.TotalSeconds:0.00} s ({Requests / clock.Elapsed.TotalSeconds:N0} req/s)");
        }

        break;

    default:
        Console.Error.WriteLine("usage: Pigato.Examples.Echo worker|client|flood");
        return 2;
}

return 0;
