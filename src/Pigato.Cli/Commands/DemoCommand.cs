using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;

namespace Pigato.Cli.Commands;

/// <summary><c>pigato demo</c>: a broker, workers and a client in one process, showing each kind of exchange.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var command = new Command("demo", "Start a broker on a free local port with an echo and a streaming worker, run a few requests and print what happens.");
        command.SetAction((_, cancellationToken) => RunAsync(Console.Out, cancellationToken));
        return command;
    }

    public static async Task<int> RunAsync(TextWriter output, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        void Say(string line) => output.WriteLine($"[{clock.Elapsed.TotalMilliseconds,7:0.0} ms] {line}");

        await using var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = null });
        await broker.StartAsync(cancellationToken).ConfigureAwait(false);
        var endpoint = broker.Endpoint!;
        Say($"broker listening on {endpoint}");

        await using var echo = new Worker(new WorkerOptions { Endpoint = endpoint, Service = "echo" }, (data, reply, _) => reply.EndAsync(data));
        await using var stream = Worker.Create<int>(new WorkerOptions { Endpoint = endpoint, Service = "count" }, async (count, reply, _) =>
        {
            for (var i = 1; i <= count; i++)
            {
                await reply.WriteAsync($"partial {i} of {count}").ConfigureAwait(false);
            }

            await reply.EndAsync("done").ConfigureAwait(false);
        });
        await using var failing = new Worker(new WorkerOptions { Endpoint = endpoint, Service = "fail" }, (_, reply, _) => reply.ErrorAsync("something went wrong"));
        await using var client = new Client(new ClientOptions { Endpoint = endpoint });
        foreach (var worker in new[] { echo, stream, failing })
        {
            await worker.StartAsync(cancellationToken).ConfigureAwait(false);
            Say($"worker {worker.Id} offers '{worker.Service}'");
        }

        await client.StartAsync(cancellationToken).ConfigureAwait(false);
        Say($"client {client.Id} started");

        var text = await client.RequestAsync<string>("echo", "hello", cancellationToken: cancellationToken).ConfigureAwait(false);
        Say($"echo \"hello\" -> \"{text}\"");

        var json = await client.RequestAsync<JsonElement>("echo", new { ticker = "AAPL", from = "2015-01-01" }, cancellationToken: cancellationToken).ConfigureAwait(false);
        Say($"echo {{ticker, from}} -> {json.GetRawText()}");

        Say("count 3, streamed:");
        await foreach (var reply in client.RequestStreamAsync<string>("count", 3, cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            Say($"    {(reply.IsFinal ? "final  " : "partial")} \"{reply.Data}\"");
        }

        try
        {
            await client.RequestAsync<string>("fail", null, cancellationToken: cancellationToken).ConfigureAwait(false);
            Say("fail -> unexpected success");
            return 1;
        }
        catch (PigatoReplyException e)
        {
            Say($"fail -> error reply {e.Error.GetRawText()}");
        }

        try
        {
            await client.RequestAsync<string>("nobody", null, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) }, cancellationToken).ConfigureAwait(false);
            Say("nobody -> unexpected success");
            return 1;
        }
        catch (PigatoTimeoutException e)
        {
            Say($"nobody (300 ms timeout) -> {e.Code}");
        }

        var stats = await broker.GetStatsAsync().ConfigureAwait(false);
        Say($"broker holds {stats.Workers} workers, {stats.TrackedRequests} requests");
        Say("demo finished");
        return 0;
    }
}
