using Pigato.TestUtilities;
using Pigato.Protocol;

namespace Pigato.Integration.Tests;

/// <summary>The broker's frames and its handling of bad input, with raw DEALERs playing clients and workers.</summary>
public class BrokerWireTests
{
    private static async Task<RawSocket> RegisterRawWorkerAsync(PigatoHarness harness, string id, string service, string concurrency = "{\"concurrency\":10}")
    {
        var (worker, answer) = await harness.RegisterRawWorkerAsync(id, service, concurrency);
        Assert.Equal(["W", "1"], answer);
        return worker;
    }

    [Fact]
    public async Task PeerReconnectingUnderTheSameIdentity_IsHeardAtOnce()
    {
        // A TCP session that drops and comes back under the same identity (a DEALER reconnecting) must take the
        // identity over at once: without RouterHandover, NetMQ ignores the new connection as a duplicate until the
        // old pipe has finished terminating, and sends to the identity meanwhile fail with HostUnreachable.
        await using var harness = await PigatoHarness.StartAsync();
        using var first = RawSocket.Dealer(harness.Endpoint, "same-id");
        first.Send("C", "4");
        Assert.Equal(["C", "4"], first.ReceiveMatching(0, "C", "4"));

        using var second = RawSocket.Dealer(harness.Endpoint, "same-id");
        second.Send("C", "4");

        Assert.Equal(["C", "4"], second.ReceiveMatching(0, "C", "4"));
    }

    [Fact]
    public async Task WorkerReplyCarryingTheBrokersMark_IsRelayedWithoutIt()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterRawWorkerAsync(harness, "raw-worker", "echo");
        using var client = RawSocket.Dealer(harness.Endpoint, "raw-client");
        client.Send("C", "2", "echo", "rid-1", "null", "{}");
        worker.ReceiveMatching(0, "W", "2");

        worker.Send("W", "3", "raw-client", "", "rid-1", "-1", $"\"{PigatoErrorCodes.BrokerStopped}\"", "{\"origin\":\"broker\"}");

        Assert.Equal(["C", "3", "", "rid-1", "-1", $"\"{PigatoErrorCodes.BrokerStopped}\"", "{}"], client.ReceiveMatching(0, "C", "3"));
    }

    [Fact]
    public async Task Request_IsRelayedFrameForFrame_BothWays()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterRawWorkerAsync(harness, "raw-worker", "echo");
        using var client = RawSocket.Dealer(harness.Endpoint, "raw-client");

        client.Send("C", "2", "echo", "rid-1", "\"hi\"", "{\"timeout\":5000,\"retry\":0,\"x\":1}");
        Assert.Equal(["W", "2", "raw-client", "echo", "", "rid-1", "\"hi\"", "{\"timeout\":5000,\"retry\":0,\"x\":1}"], worker.ReceiveMatching(0, "W", "2"));

        worker.Send("W", "6", "raw-client", "", "rid-1", "0", "\"part\"", "{}");
        Assert.Equal(["C", "6", "", "rid-1", "0", "\"part\"", "{}"], client.ReceiveMatching(0, "C", "6"));
        worker.Send("W", "3", "raw-client", "", "rid-1", "-1", "\"err\"", "undefined");
        Assert.Equal(["C", "3", "", "rid-1", "-1", "\"err\"", "undefined"], client.ReceiveMatching(0, "C", "3"));

        client.Send("C", "4");
        Assert.Equal(["C", "4"], client.ReceiveMatching(0, "C", "4"));
        worker.Send("W", "4", "", "{\"concurrency\":3}");
        Assert.Equal(["W", "4"], worker.ReceiveMatching(0, "W", "4"));
        Assert.Equal(0, (await harness.Broker.GetStatsAsync()).TrackedRequests);
    }

    [Fact]
    public async Task RequestHeartbeat_IsForwardedToTheWorkerHoldingTheRequest()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterRawWorkerAsync(harness, "raw-worker", "echo");
        using var client = RawSocket.Dealer(harness.Endpoint, "raw-client");
        client.Send("C", "2", "echo", "rid-1", "null", "{}");
        worker.ReceiveMatching(0, "W", "2");

        client.Send("C", "4", "request", "rid-1");

        Assert.Equal(["W", "4", "raw-client", "", "rid-1"], worker.ReceiveMatching(0, "W", "4", "raw-client"));
    }

    [Fact]
    public async Task MalformedInput_RaisesErrors_AndBrokerKeepsServing()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterRawWorkerAsync(harness, "raw-worker", "echo");
        using var client = RawSocket.Dealer(harness.Endpoint, "raw-client");

        client.Send("garbage");
        client.Send("X", "2", "echo", "rid");
        client.Send("C", "9");
        client.Send("C", "2", "echo");
        client.Send([.. Enumerable.Repeat("x", 40)]);

        await Bounded.UntilAsync(() => { lock (harness.BrokerErrors) { return harness.BrokerErrors.Count >= 5; } }, "five broker errors");
        lock (harness.BrokerErrors)
        {
            Assert.Equal(
                [PigatoErrorCodes.MessageLength, PigatoErrorCodes.MessageHeader, PigatoErrorCodes.MessageType, PigatoErrorCodes.MessageLength, PigatoErrorCodes.MessageLength],
                harness.BrokerErrors.Select(e => e.Code));
        }

        client.Send("C", "2", "echo", "rid-ok", "1", "{}");
        worker.ReceiveMatching(0, "W", "2", "raw-client", "echo", "", "rid-ok");
    }

    [Fact]
    public async Task UnregisteredWorker_GetsDisconnect()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var stranger = RawSocket.Dealer(harness.Endpoint, "stranger");

        stranger.Send("W", "4", "", "{\"concurrency\":1}");

        Assert.Equal(["W", "5"], stranger.ReceiveMatching(0, "W", "5"));
        Assert.Contains(harness.BrokerErrors.ToArray(), e => e.Code == PigatoErrorCodes.WorkerProtocol && e.PeerId == "stranger");
    }

    [Fact]
    public async Task ReplyForUnknownRid_DisconnectsTheWorker_AndFailsItsRequests()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterRawWorkerAsync(harness, "raw-worker", "echo");
        using var client = RawSocket.Dealer(harness.Endpoint, "raw-client");
        client.Send("C", "2", "echo", "held", "null", "{}");
        worker.ReceiveMatching(0, "W", "2");

        worker.Send("W", "3", "raw-client", "", "not-held", "0", "null", "{}");

        Assert.Equal(["W", "5"], worker.ReceiveMatching(0, "W", "5"));
        Assert.Equal(["C", "3", "", "held", "-1", $"\"{PigatoErrorCodes.WorkerLost}\"", "{\"origin\":\"broker\"}"], client.ReceiveMatching(0, "C", "3"));
        var stats = await harness.Broker.GetStatsAsync();
        Assert.Equal((0, 0), (stats.Workers, stats.TrackedRequests));
    }

    [Fact]
    public async Task SilentWorker_IsPurged_AndSentDisconnect()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(50) });
        using var worker = await RegisterRawWorkerAsync(harness, "raw-worker", "echo");

        worker.ReceiveMatching(0, "W", "5");

        Assert.Equal(0, (await harness.Broker.GetStatsAsync()).Workers);
    }

    [Fact]
    public async Task Concurrency_FromReadyAndHeartbeat_LimitsInFlight()
    {
        await using var harness = await PigatoHarness.StartAsync();
        using var worker = await RegisterRawWorkerAsync(harness, "raw-worker", "echo", "{\"concurrency\":1}");
        using var client = RawSocket.Dealer(harness.Endpoint, "raw-client");
        client.Send("C", "2", "echo", "r1", "null", "{}");
        client.Send("C", "2", "echo", "r2", "null", "{}");
        worker.ReceiveMatching(0, "W", "2", "raw-client", "echo", "", "r1");
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()) is { InFlightRequests: 1, QueuedRequests: 1 }, "the broker holds r2 back");
        Assert.Null(worker.TryReceive(TimeSpan.Zero));

        worker.Send("W", "4", "", "{\"concurrency\":2}");

        worker.ReceiveMatching(0, "W", "2", "raw-client", "echo", "", "r2");
    }
}
