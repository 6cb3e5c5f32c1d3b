using Pigato.Routing;
using static Pigato.Tests.Routing.CoreHarness;

namespace Pigato.Tests.Routing;

/// <summary>The core's side of v2 framing (docs/PROTOCOL-V2.md): what it agrees to, and which framing each answer takes.</summary>
public class FramingTests
{
    [Fact]
    public void Hello_AnnouncingV2_IsAnsweredWithV2_UnlessTheBrokerKeepsToV1()
    {
        var auto = new CoreHarness();
        auto.Core.ClientHello(B("c"), B("{\"v\":2}"));
        auto.Core.ClientHello(B("old"), B("{}"));
        Assert.Equal(["hello c v2", "hello old"], auto.Output.Of("hello "));

        var v1 = new CoreHarness(new BrokerOptions { Framing = Framing.V1 });
        v1.Core.ClientHello(B("c"), B("{\"v\":2}"));
        Assert.Equal(["hello c"], v1.Output.Of("hello "));
    }

    [Fact]
    public void Ready_AnnouncingV2_MakesTheWorkerV2_UnlessTheBrokerKeepsToV1()
    {
        var auto = new CoreHarness();
        auto.Core.WorkerReady(B("w2"), B("echo"), B("{\"concurrency\":1,\"v\":2}"));
        auto.Core.WorkerReady(B("w1"), B("echo"), B("{\"concurrency\":1}"));
        Assert.Equal(["ready w2 v2", "ready w1"], auto.Output.Of("ready "));

        var v1 = new CoreHarness(new BrokerOptions { Framing = Framing.V1 });
        v1.Core.WorkerReady(B("w"), B("echo"), B("{\"concurrency\":1,\"v\":2}"));
        Assert.Equal(["ready w"], v1.Output.Of("ready "));
    }

    [Fact]
    public void Replies_TakeTheFramingTheirRequestCameIn()
    {
        var h = new CoreHarness();
        h.Ready("w", "echo");
        h.Core.ClientRequest(B("c"), B("echo"), B("r2"), B("null"), B("{}"), 20, compact: true);
        h.Request("c", "echo", "r1");

        h.Partial("w", "c", "r2");
        h.Final("w", "c", "r2");
        h.Final("w", "c", "r1");

        Assert.Equal(["relay c r2 v2", "relay c r2 v2", "relay c r1"], h.Output.Of("relay "));
    }

    [Fact]
    public void RefusalOnArrival_AndFailureLater_OfAV2Request_AreV2Errors()
    {
        var h = new CoreHarness(new BrokerOptions { MaxRidLength = 4 });
        h.Ready("w", "echo");
        h.Core.ClientRequest(B("c"), B("echo"), B("too-long"), B("null"), B("{}"), 20, compact: true);
        h.Core.ClientRequest(B("c"), B("echo"), B("r1"), B("null"), B("{}"), 20, compact: true);

        h.Core.WorkerDisconnect(B("w"));

        Assert.Equal([$"error c too-long {PigatoErrorCodes.FrameTooLong} v2", $"error c r1 {PigatoErrorCodes.WorkerLost} v2"], h.Output.Of("error "));
    }
}
