using System.Text.Json;
using NetMQ;
using NetMQ.Sockets;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>Transports and the broker's internal PUB channel.</summary>
public class EndpointTests
{
    [Fact]
    public async Task Inproc_BrokerWorkerAndClient_Work()
    {
        var endpoint = "inproc://pigato-" + Guid.NewGuid().ToString("N");
        await using var broker = new Broker(new BrokerOptions { Endpoint = endpoint, InternalEndpoint = null });
        await broker.StartAsync();
        await using var worker = new Worker(new WorkerOptions { Endpoint = endpoint, Service = "echo" }, (d, r, _) => r.EndAsync(d));
        await worker.StartAsync();
        await using var client = new Client(new ClientOptions { Endpoint = endpoint });
        await client.StartAsync();

        Assert.Equal(endpoint, broker.Endpoint);
        Assert.Equal("in", await client.RequestAsync<string>("echo", "in", cancellationToken: Bounded.Token()));
    }

    [Fact]
    public async Task BindFailure_IsATypedError()
    {
        await using var first = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = null });
        await first.StartAsync();
        await using var second = new Broker(new BrokerOptions { Endpoint = first.Endpoint!, InternalEndpoint = null });

        var error = await Assert.ThrowsAsync<PigatoException>(() => second.StartAsync());

        Assert.Equal("ERR_BIND", error.Code);
        Assert.Contains($"Endpoint '{first.Endpoint}'", error.Message, StringComparison.Ordinal);
        Assert.False(second.IsRunning);
    }

    [Fact]
    public async Task TwoBrokersWithDefaultOptionsButTheirEndpoint_StartOnOneHost_EachWithItsOwnInternalChannel()
    {
        await using var first = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0" });
        await using var second = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0" });
        await first.StartAsync();
        await second.StartAsync();

        Assert.NotNull(first.InternalEndpoint);
        Assert.NotEqual(first.InternalEndpoint, second.InternalEndpoint);
    }

    [Fact]
    public async Task InternalChannelTaken_TheBindErrorNamesTheOption()
    {
        await using var first = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0" });
        await first.StartAsync();
        await using var second = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = first.InternalEndpoint });

        var error = await Assert.ThrowsAsync<PigatoException>(() => second.StartAsync());

        Assert.Contains($"InternalEndpoint '{first.InternalEndpoint}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InternalChannel_PublishesDirectory_WhenWorkersComeAndGo()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { InternalEndpoint = "tcp://127.0.0.1:0" });
        using var subscriber = new SubscriberSocket();
        subscriber.Connect(harness.Broker.InternalEndpoint!);
        subscriber.Subscribe("$dir");

        // A subscription takes a moment to reach the publisher: register workers until one snapshot arrives.
        var started = new List<string>();
        string? snapshot = null;
        for (var i = 0; i < 50 && snapshot is null; i++)
        {
            started.Add((await harness.StartWorkerAsync("echo", (d, r, _) => r.EndAsync(d))).Id!);
            subscriber.TryReceiveFrameString(TimeSpan.FromMilliseconds(200), out snapshot);
        }

        // The snapshot that arrived first may predate the last worker: it lists some of those started, nothing else.
        Assert.NotNull(snapshot);
        Assert.StartsWith("$dir ", snapshot);
        using var map = JsonDocument.Parse(snapshot!["$dir ".Length..]);
        var listed = map.RootElement.GetProperty("echo").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.NotEmpty(listed);
        Assert.All(listed, id => Assert.Contains(id, started));
    }
}
