using System.Text.Json;

namespace Pigato.Interop.Tests;

/// <summary>Through the Node.js PIGATO broker: .NET workers serve Node.js clients and .NET clients are served by Node.js workers.</summary>
/// <remarks>Only plain, partial, error and JSON exchanges: the Node broker's reject, load-order and request-heartbeat paths have known bugs.</remarks>
public class NodeBrokerTests(ITestOutputHelper output)
{
    private async Task<NodePeer> StartNodeBrokerAsync(string endpoint) =>
        await NodePeer.StartAsync(output, "broker", endpoint, Interop.FreeEndpoint());

    [SkippableFact]
    public async Task DotnetWorker_ServesNodeClient()
    {
        Interop.RequireNode();
        var endpoint = Interop.FreeEndpoint();
        await using var broker = await StartNodeBrokerAsync(endpoint);
        await using var worker = await Interop.StartWorkerAsync(endpoint, "echo", Interop.DotnetHandler);
        await using var client = await NodePeer.StartAsync(output, "client", endpoint);

        Assert.Equal("plain", (await client.RequestAsync(new { service = "echo", data = "plain", mode = "callback" })).GetProperty("final").GetString());
        Assert.Equal(3, (await client.RequestAsync(new { service = "echo", data = new { n = 3 }, mode = "callback" })).GetProperty("final").GetProperty("n").GetInt32());
        var streamed = await client.RequestAsync(new { service = "echo", data = new { op = "partials" }, mode = "callback" });
        Assert.Equal(["p1", "p2", "p3"], streamed.GetProperty("partials").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("final", streamed.GetProperty("final").GetString());
        Assert.Equal("E_DOTNET", (await client.RequestAsync(new { service = "echo", data = new { op = "error" }, mode = "callback" })).GetProperty("error").GetString());
    }

    [SkippableFact]
    public async Task NodeWorker_ServesDotnetClient()
    {
        Interop.RequireNode();
        var endpoint = Interop.FreeEndpoint();
        await using var broker = await StartNodeBrokerAsync(endpoint);
        await using var worker = await NodePeer.StartAsync(output, "worker", endpoint, "echo");
        await using var client = await Interop.StartClientAsync(endpoint);

        Assert.Equal("plain", await client.RequestAsync<string>("echo", "plain", cancellationToken: Interop.Token()));
        Assert.Equal(3, (await client.RequestAsync<JsonElement>("echo", new { n = 3 }, cancellationToken: Interop.Token())).GetProperty("n").GetInt32());
        var streamed = new List<string?>();
        await foreach (var reply in client.RequestStreamAsync<string>("echo", new { op = "partials" }, cancellationToken: Interop.Token()))
        {
            streamed.Add(reply.Data);
        }

        Assert.Equal(["p1", "p2", "p3", "final"], streamed);
        var error = await Assert.ThrowsAsync<PigatoReplyException>(() => client.RequestAsync<string>("echo", new { op = "error" }, cancellationToken: Interop.Token()).AsTask());
        Assert.Equal("E_NODE", error.Code);
    }
}
