using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Pigato.Examples;

namespace Pigato.Cli.Commands;

/// <summary><c>pigato demo</c>: a broker, workers and a client in one process, showing each kind of exchange.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Start a broker on a free local port with example workers, run a few requests and print what happens.");
        command.SetAction((parse, cancellationToken) => RunAsync(parse.InvocationConfiguration.Output, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        void Say(string line) => output.WriteLine($"[{clock.Elapsed.TotalMilliseconds,7:0.0} ms] {line}");

        await using var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = "tcp://127.0.0.1:0", EnableDirectory = true });
        await broker.StartAsync(cancellationToken);
        var endpoint = broker.Endpoint!;
        Say($"broker listening on {endpoint}, with the $dir directory service");

        await using var echo = new Worker(new WorkerOptions { Endpoint = endpoint, Service = EchoService.Name }, EchoService.HandleAsync);
        await using var stocks = Worker.Create<QuoteQuery>(new WorkerOptions { Endpoint = endpoint, Service = StocksService.Name }, StocksService.HandleAsync);
        await using var failing = new Worker(new WorkerOptions { Endpoint = endpoint, Service = "fail" }, (_, reply, _) => reply.ErrorAsync("something went wrong"));
        await using var client = new Client(new ClientOptions { Endpoint = endpoint });
        foreach (var worker in new[] { echo, stocks, failing })
        {
            await worker.StartAsync(cancellationToken);
            Say($"worker {worker.Id} offers '{worker.Service}'");
        }

        await client.StartAsync(cancellationToken);
        Say($"client {client.Id} started");

        var text = await client.RequestAsync<string>(EchoService.Name, "hello", cancellationToken: cancellationToken);
        Say($"echo \"hello\" -> \"{text}\"");

        var json = await client.RequestAsync<JsonElement>(EchoService.Name, new { ticker = "AAPL", from = "2015-01-01" }, cancellationToken: cancellationToken);
        Say($"echo {{ticker, from}} -> {json.GetRawText()}");

        Say("stocks AAPL 2015-01-05..2015-01-08, streamed:");
        var query = new QuoteQuery("AAPL", new DateOnly(2015, 1, 5), new DateOnly(2015, 1, 8));
        await foreach (var reply in client.RequestStreamAsync<JsonElement>(StocksService.Name, query, cancellationToken: cancellationToken))
        {
            Say($"    {(reply.IsFinal ? "final  " : "partial")} {reply.Data.GetRawText()}");
        }

        try
        {
            await client.RequestAsync<string>("fail", null, cancellationToken: cancellationToken);
            Say("fail -> unexpected success");
            return 1;
        }
        catch (PigatoReplyException e)
        {
            Say($"fail -> error reply {e.Error.GetRawText()}");
        }

        try
        {
            await client.RequestAsync<string>("nobody", null, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) }, cancellationToken);
            Say("nobody -> unexpected success");
            return 1;
        }
        catch (PigatoTimeoutException e)
        {
            Say($"nobody (300 ms timeout, no such worker) -> {e.Code}");
        }

        var directory = await client.RequestAsync<Dictionary<string, string[]>>(DirectoryService.ServiceName, null, cancellationToken: cancellationToken);
        foreach (var (service, workers) in directory!.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            Say($"$dir: '{service}' has {workers.Length} worker(s)");
        }

        Say("demo finished");
        return 0;
    }
}
