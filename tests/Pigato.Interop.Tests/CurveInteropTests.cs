using Pigato.Security;

namespace Pigato.Interop.Tests;

/// <summary>
/// CURVE against libzmq's own (Node's zeromq 6, libzmq 4.3 with libsodium; PIGATO 0.0.46 has no CURVE option, the zmq
/// shim sets it from the environment): Pigato's transport as the CURVE server of libzmq clients, and as the CURVE client
/// of a libzmq server.
/// </summary>
public class CurveInteropTests(ITestOutputHelper output)
{
    private static readonly (string PublicKey, string SecretKey) Keys = CurveKeys.Generate();

    private static readonly Dictionary<string, string> NodeClients = new() { ["PIGATO_INTEROP_CURVE_SERVER_KEY"] = Keys.PublicKey };

    [SkippableFact]
    public async Task NodeWorkerAndClient_ThroughADotnetCurveBroker()
    {
        Interop.RequireNode();
        await using var broker = await Interop.StartBrokerAsync(curveSecretKey: Keys.SecretKey);
        await using var worker = await NodePeer.StartAsync(output, NodeClients, "worker", broker.Endpoint!, "echo");
        await using var client = await Interop.StartClientAsync(broker.Endpoint!, Keys.PublicKey);

        var streamed = new List<string?>();
        await foreach (var reply in client.RequestStreamAsync<string>("echo", new { op = "partials" }, cancellationToken: Interop.Token()))
        {
            streamed.Add(reply.Data);
        }

        Assert.Equal(["p1", "p2", "p3", "final"], streamed);
        var large = new string('x', 1 << 20);
        Assert.Equal(large, await client.RequestAsync<string>("echo", large, cancellationToken: Interop.Token()));

        await using var dotnetWorker = await Interop.StartWorkerAsync(broker.Endpoint!, "dotnet", Interop.DotnetHandler, Keys.PublicKey);
        await using var nodeClient = await NodePeer.StartAsync(output, NodeClients, "client", broker.Endpoint!);
        Assert.Equal("plain", (await nodeClient.RequestAsync(new { service = "dotnet", data = "plain", mode = "callback" })).GetProperty("final").GetString());
    }

    [SkippableFact]
    public async Task DotnetWorkerAndClient_ThroughANodeCurveBroker()
    {
        Interop.RequireNode();
        var endpoint = Interop.FreeEndpoint();
        await using var broker = await NodePeer.StartAsync(output, new Dictionary<string, string> { ["PIGATO_INTEROP_CURVE_SECRET_KEY"] = Keys.SecretKey }, "broker", endpoint, Interop.FreeEndpoint());
        await using var worker = await Interop.StartWorkerAsync(endpoint, "echo", Interop.DotnetHandler, Keys.PublicKey);
        await using var client = await Interop.StartClientAsync(endpoint, Keys.PublicKey);

        var streamed = new List<string?>();
        await foreach (var reply in client.RequestStreamAsync<string>("echo", new { op = "partials" }, cancellationToken: Interop.Token()))
        {
            streamed.Add(reply.Data);
        }

        Assert.Equal(["p1", "p2", "p3", "final"], streamed);
        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.RequestAsync<int>("echo", i, cancellationToken: Interop.Token()).AsTask()));
        Assert.Equal(Enumerable.Range(0, 200), answers);
    }
}
