using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>
/// What PIGATO's other peers do that the Node.js one does not: PIGATO-RUBY's worker heartbeats from a client socket of its
/// own, PIGATO-GO's and PIGATO-RUBY's clients never heartbeat, PIGATO-GO's processes share one identity.
/// </summary>
public class PigatoPeerCompatibilityTests
{
    private static CoreHarness Harness(BrokerOptions? options = null) =>
        new(options ?? new BrokerOptions { HeartbeatInterval = TimeSpan.FromSeconds(1), Liveness = 3 });

    [Fact]
    public void WorkerHeartbeatFromAClientSocket_KeepsABusyWorkerAlive_AndIsNotAnswered()
    {
        var h = Harness();
        h.Ready("W-ruby", "slow", 1);
        h.Request("c", "slow", "r", "{\"timeout\":60000}");
        Assert.Equal("W-ruby", h.WorkerOf("r"));

        // The handler is busy for 15 s: the worker socket says nothing, its client socket heartbeats for it.
        for (var i = 0; i < 15; i++)
        {
            h.WorkerHeartbeatFromClientSocket("C-ruby", "W-ruby");
            h.ClientHeartbeat("c");
            h.Tick();
        }

        h.Final("W-ruby", "c", "r");
        Assert.Equal(["relay c r"], h.Output.Of("relay "));
        Assert.DoesNotContain("disconnect W-ruby", h.Output.Sent);
        Assert.DoesNotContain(h.Output.Sent, line => line.Contains("C-ruby", StringComparison.Ordinal));
        Assert.Empty(h.Output.Errors);
    }

    [Fact]
    public void WithoutTheClientSocketHeartbeat_TheSameBusyWorkerIsPurged()
    {
        var h = Harness();
        h.Ready("W-ruby", "slow", 1);
        h.Request("c", "slow", "r", "{\"timeout\":60000}");
        for (var i = 0; i < 15; i++)
        {
            h.ClientHeartbeat("c");
            h.Tick();
        }

        Assert.Contains("disconnect W-ruby", h.Output.Sent);
        Assert.Contains($"error c r {PigatoErrorCodes.WorkerLost}", h.Output.Sent);
    }

    [Fact]
    public void WorkerHeartbeatFromAClientSocket_ForAnUnknownWorker_IsIgnoredQuietly()
    {
        var h = Harness();
        h.WorkerHeartbeatFromClientSocket("C-ruby", "W-gone");

        Assert.Empty(h.Output.Sent);
        Assert.Empty(h.Output.Errors);
    }

    [Fact]
    public void IdentityPresentedByASecondConnection_IsLoggedOnceASecond_WithTheNewAddress()
    {
        var h = Harness();
        h.Request("C-go", "svc", "r1");

        // NetMQ closes the first connection's pipe and the identity still answers: another connection holds it now.
        h.Core.ConnectionClosed(CoreHarness.B("C-go"), "10.0.0.7:40000");
        h.Core.ConnectionClosed(CoreHarness.B("C-go"), "10.0.0.8:40001");

        var logged = h.Logger.Collector.GetSnapshot().Where(r => r.Id.Id == PigatoLogEvents.IdentityTakenOver).ToList();
        var line = Assert.Single(logged).Message;
        Assert.Contains("C-go", line, StringComparison.Ordinal);
        Assert.Contains("10.0.0.7:40000", line, StringComparison.Ordinal);
        Assert.Contains("client", line, StringComparison.Ordinal);

        h.Time.Advance(TimeSpan.FromSeconds(1));
        h.Core.ConnectionClosed(CoreHarness.B("C-go"), "10.0.0.9:40002");
        var next = h.Logger.Collector.GetSnapshot().Where(r => r.Id.Id == PigatoLogEvents.IdentityTakenOver).Last().Message;
        Assert.Contains("1 more", next, StringComparison.Ordinal);
    }

    [Fact]
    public void ConnectionClosed_OfAPeerThatIsGone_OrUnknown_IsNoTakeover()
    {
        var h = Harness();
        h.Ready("W1", "svc", 1);
        h.Output.Unreachable.Add("W1");

        h.Core.ConnectionClosed(CoreHarness.B("W1"), "10.0.0.7:40000");
        h.Core.ConnectionClosed(CoreHarness.B("stranger"), "10.0.0.7:40000");

        Assert.DoesNotContain(h.Logger.Collector.GetSnapshot(), r => r.Id.Id == PigatoLogEvents.IdentityTakenOver);
        Assert.Equal(1, h.Core.Stats().Workers);
    }
}
