using System.Text.Json;
using System.Net;
using System.Net.Sockets;

namespace Pigato.Interop.Tests;

/// <summary>Helpers shared by the interop tests: free ports, .NET actors with bounded waits.</summary>
internal static class Interop
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public static CancellationToken Token() => new CancellationTokenSource(Bound).Token;

    /// <summary>Skips the test outside CI when Node.js or the npm packages are missing (fails in CI).</summary>
    public static void RequireNode()
    {
        var reason = NodePeer.Unavailable();
        Skip.If(reason is not null, "Interop test skipped: " + reason + ".");
    }

    /// <summary>A TCP endpoint on 127.0.0.1 with a port that was free a moment ago (for the Node.js broker, which cannot report an ephemeral port).</summary>
    public static string FreeEndpoint()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return $"tcp://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}";
    }

    public static async Task<Broker> StartBrokerAsync(bool directory = false, string? curveSecretKey = null)
    {
        var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = "tcp://127.0.0.1:0", EnableDirectory = directory, CurveSecretKey = curveSecretKey });
        await broker.StartAsync();
        return broker;
    }

    /// <summary>Waits until the broker has <paramref name="count"/> workers, so that requests reach them at once.</summary>
    public static async Task WaitForWorkersAsync(Broker broker, int count)
    {
        using var timeout = new CancellationTokenSource(Bound);
        while ((await broker.GetStatsAsync()).Workers < count)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    public static async Task<Worker> StartWorkerAsync(string endpoint, string service, RequestHandler<System.Text.Json.JsonElement> handler, string? curveServerKey = null)
    {
        var worker = new Worker(new WorkerOptions { Endpoint = endpoint, Service = service, CurveServerKey = curveServerKey }, handler);
        await worker.StartAsync();
        await worker.WaitForRegistrationAsync(Bound);

        return worker;
    }

    public static async Task<Client> StartClientAsync(string endpoint, string? curveServerKey = null)
    {
        var client = new Client(new ClientOptions { Endpoint = endpoint, CurveServerKey = curveServerKey });
        await client.StartAsync();
        return client;
    }

    /// <summary>The .NET worker of the interop tests: echo, or by <c>op</c>: partials (3 then a final), error, options, silent.</summary>
    public static ValueTask DotnetHandler(JsonElement data, WorkerReply reply, JsonElement options)
    {
        var op = data.ValueKind == JsonValueKind.Object && data.TryGetProperty("op", out var o) ? o.GetString() : null;
        return op switch
        {
            "partials" => Partials(reply),
            "error" => reply.ErrorAsync("E_DOTNET"),
            "options" => reply.EndAsync(options),
            "silent" => Silent(reply),
            _ => reply.EndAsync(data),
        };

        // A handler that returns ends its request: stay silent until the request goes inactive.
        static async ValueTask Silent(WorkerReply reply) =>
            await Task.Delay(Timeout.Infinite, reply.CancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);

        static async ValueTask Partials(WorkerReply reply)
        {
            await reply.WriteAsync("p1");
            await reply.WriteAsync("p2");
            await reply.WriteAsync("p3");
            await reply.EndAsync("final");
        }
    }
}
