using Pigato.Internal;
using Pigato.Routing;
using static Pigato.Tests.Routing.CoreHarness;

namespace Pigato.Tests.Routing;

/// <summary>
/// v2 framing (docs/PROTOCOL-V2.md) stays below the core: the core passes on what a peer announced and forgets peers;
/// the framing agreed with each peer (<see cref="PeerFramings"/>) decides what every message to it looks like.
/// </summary>
public class FramingTests
{
    [Fact]
    public void TheCore_PassesOnWhatAHelloOrAReadyAnnounced()
    {
        var h = new CoreHarness();
        h.Core.ClientHello(B("c"), B("{\"v\":2}"));
        h.Core.ClientHello(B("old"), B("{}"));
        h.Core.WorkerReady(B("w2"), B("echo"), B("{\"concurrency\":1,\"v\":2}"));
        h.Core.WorkerReady(B("w1"), B("echo"), B("{\"concurrency\":1}"));

        Assert.Equal(["hello c v2", "hello old"], h.Output.Of("hello "));
        Assert.Equal(["ready w2 v2", "ready w1"], h.Output.Of("ready "));
    }

    [Fact]
    public void ARemovedWorker_AndASilentClient_AreForgottenByTheOutput()
    {
        var h = new CoreHarness();
        h.Ready("w", "echo");
        h.Core.ClientHello(B("c"), B("{\"v\":2}"));

        h.Core.WorkerDisconnect(B("w"));
        Assert.Equal(["w"], h.Output.Forgotten);

        for (var i = 0; i < 2 * h.Options.Liveness + 1; i++)
        {
            h.Tick();
        }

        Assert.Equal(["w", "c"], h.Output.Forgotten);
    }

    [Fact]
    public void APeer_SpeaksV2_OnlyWhenItAnnouncedIt_AndTheBrokerAllowsIt()
    {
        var auto = new PeerFramings(Framing.Auto);
        Assert.True(auto.Agree(B("c"), 2));
        Assert.False(auto.Agree(B("old"), 0));
        Assert.True(auto.IsV2(B("c")));
        Assert.False(auto.IsV2(B("old")));
        Assert.False(auto.IsV2(B("stranger")));

        var v1 = new PeerFramings(Framing.V1);
        Assert.False(v1.Agree(B("c"), 2));
        Assert.False(v1.IsV2(B("c")));
    }

    [Fact]
    public void AForgottenPeer_OrOneThatAnnouncesLessOnReconnecting_IsV1Again()
    {
        var framings = new PeerFramings(Framing.Auto);
        framings.Agree(B("a"), 2);
        framings.Agree(B("b"), 2);

        framings.Forget(B("a"));
        framings.Agree(B("b"), 0);

        Assert.False(framings.IsV2(B("a")));
        Assert.False(framings.IsV2(B("b")));
        Assert.Equal(0, framings.Count);
    }
}
