using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>
/// What PIGATO's other peers do that the Node.js one does not: PIGATO-RUBY's worker heartbeats from a client socket of its
/// own, PIGATO-GO's and PIGATO-RUBY's clients never heartbeat.
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
}
