using System.Text;
using Pigato.Persistence;
using Xunit;

namespace Pigato.Tests.Routing;

/// <summary>The broker's rules for <c>persist</c> requests, without sockets: journal, re-attachment, replay, kept replies, limits.</summary>
public sealed class DurableRequestTests
{
    private const string Persist = """{"persist":true,"timeout":60000}""";

    private readonly RecordingJournal _journal = new();

    private CoreHarness Harness(BrokerOptions? options = null) => new(options ?? new BrokerOptions { Liveness = 3 }, journal: _journal);

    private static StoredRequest Stored(string rid, string client, string service, long storedAt, string options = Persist) =>
        new(Encoding.UTF8.GetBytes(rid), Encoding.UTF8.GetBytes(client), service, Encoding.UTF8.GetBytes("\"data\""), Encoding.UTF8.GetBytes(options), storedAt);

    private static long Now(CoreHarness h) => h.Time.GetUtcNow().ToUnixTimeMilliseconds();

    [Fact]
    public void PersistRequest_IsJournalledOnArrival_AndRemovedAtItsFinalReply()
    {
        var h = Harness();
        h.Ready("w1", "echo");
        h.Request("c1", "echo", "r1", Persist);
        h.Request("c1", "echo", "r2");
        Assert.Equal(["stored r1"], _journal.Lines);

        h.Final("w1", "c1", "r1");
        h.Final("w1", "c1", "r2");
        Assert.Equal(["stored r1", "removed-before-reply r1"], _journal.Lines);
        Assert.Contains("relay c1 r2", h.Output.Sent);
        Assert.DoesNotContain(h.Output.Sent, line => line.EndsWith(" c1 r1", StringComparison.Ordinal));

        // Its reply goes once its removal is durable: a crash before cannot run it again after the client was answered.
        h.Core.RemovalsDurable(_journal.Waiting);
        Assert.Contains("kept-reply c1 r1", h.Output.Sent);
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void PersistRequest_AnsweredBeforeItLeftTheLoop_IsRelayedAtOnce_AndNeverWritten()
    {
        var h = Harness();
        h.Ready("w1", "echo");
        h.Request("c1", "echo", "r1", Persist);
        _journal.Unwritten.Add("r1");
        h.Final("w1", "c1", "r1");

        Assert.Contains("relay c1 r1", h.Output.Sent);
        Assert.Equal(["stored r1", "removed r1"], _journal.Lines);
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void ClientReattachingUnderANewIdentity_GetsTheRepliesAndNothingRunsTwice()
    {
        var h = Harness();
        h.Ready("w1", "echo");
        h.Request("c1", "echo", "r1", Persist);
        Assert.Equal("w1", h.WorkerOf("r1"));

        h.Request("c1-reconnected", "echo", "r1", Persist);
        h.Final("w1", "c1", "r1");
        h.Core.RemovalsDurable(_journal.Waiting);

        Assert.Single(h.Output.Of("request w1 r1"));
        Assert.Contains("kept-reply c1-reconnected r1", h.Output.Sent);
        Assert.DoesNotContain(h.Output.Sent, line => line.EndsWith(" c1 r1", StringComparison.Ordinal));
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void RequestsReadBackFromTheStore_RunAndKeepTheirReplyUntilTheClientReattaches()
    {
        var h = Harness();
        Assert.Equal(1, h.Core.Restore([Stored("r1", "c-before-crash", "echo", Now(h))]));
        h.Ready("w1", "echo");
        Assert.Equal("w1", h.WorkerOf("r1"));

        h.Partial("w1", "c-before-crash", "r1");
        h.Final("w1", "c-before-crash", "r1");
        Assert.Empty(h.Output.Of("relay"));
        Assert.Equal(1, h.Core.Stats().KeptReplies);
        Assert.Empty(_journal.Lines);

        h.Request("c-after", "echo", "r1", Persist);
        Assert.Equal(["removed-before-reply r1"], _journal.Lines);
        h.Core.RemovalsDurable(_journal.Waiting);
        Assert.Contains("kept-reply c-after r1", h.Output.Sent);
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
        Assert.Single(h.Output.Of("request w1"));
    }

    [Fact]
    public void KeptReply_IsDroppedAfterTheWindow()
    {
        var h = Harness(new BrokerOptions { Liveness = 3, KeptReplyWindow = TimeSpan.FromSeconds(5) });
        h.Core.Restore([Stored("r1", "gone", "echo", Now(h))]);
        h.Ready("w1", "echo");
        h.Final("w1", "gone", "r1");
        h.Tick();
        Assert.Equal(1, h.Core.Stats().KeptReplies);

        h.Tick();
        h.Tick();
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
        Assert.Equal(["removed r1"], _journal.Lines);
    }

    [Fact]
    public void Restore_KeepsTheAgeOfARequest_ExpiresTheTimedOut_AndSkipsWhatIsHeld()
    {
        var h = Harness();
        h.Request("c2", "echo", "held", Persist);
        var restored = h.Core.Restore(
        [
            Stored("old", "c1", "echo", Now(h) - 61_000),
            Stored("young", "c1", "echo", Now(h) - 1_000),
            Stored("held", "c1", "echo", Now(h)),
        ]);

        Assert.Equal(2, restored);
        Assert.Equal(["stored held", "removed old"], _journal.Lines);
        Assert.Equal(2, h.Core.Stats().QueuedRequests);
    }

    [Fact]
    public void StoreUnavailable_RefusesPersistRequests_WhileOthersFlow()
    {
        var h = Harness();
        h.Ready("w1", "echo");
        _journal.IsAvailable = false;
        h.Request("c1", "echo", "r1", Persist);
        h.Request("c1", "echo", "r2");

        Assert.Contains($"error c1 r1 {PigatoErrorCodes.StoreUnavailable}", h.Output.Sent);
        Assert.Equal("w1", h.WorkerOf("r2"));
        Assert.Empty(_journal.Lines);
    }

    [Fact]
    public void StoreFull_RefusesPersistRequestsPastTheLimit()
    {
        var h = Harness(new BrokerOptions { Liveness = 3, MaxStoredRequests = 2 });
        h.Request("c1", "echo", "r1", Persist);
        h.Request("c1", "echo", "r2", Persist);
        h.Request("c1", "echo", "r3", Persist);
        h.Request("c1", "echo", "r4");

        Assert.Contains($"error c1 r3 {PigatoErrorCodes.StoreFull}", h.Output.Sent);
        Assert.Equal(3, h.Core.Stats().QueuedRequests);
    }

    [Fact]
    public void PersistRequest_OutlivesASilentClient_AndASecondRidOfAnotherService_IsRefused()
    {
        var h = Harness();
        h.ClientHeartbeat("c1");
        h.Request("c1", "echo", "durable", Persist);
        h.Request("c1", "echo", "plain");
        for (var i = 0; i < 4; i++)
        {
            h.Tick();
        }

        Assert.Equal(1, h.Core.Stats().QueuedRequests);
        h.Request("c2", "other", "durable", Persist);
        Assert.Contains($"error c2 durable {PigatoErrorCodes.RequestInvalid}", h.Output.Sent);
    }

    [Fact]
    public void PersistRequest_OfALostWorker_RunsAgainElsewhere()
    {
        var h = Harness();
        h.Ready("w1", "echo");
        h.Request("c1", "echo", "r1", Persist);
        h.Core.WorkerDisconnect(CoreHarness.B("w1"));
        h.Ready("w2", "echo");

        Assert.Equal("w2", h.WorkerOf("r1"));
        Assert.DoesNotContain(h.Output.Sent, line => line.StartsWith("error c1 r1", StringComparison.Ordinal));
    }

    [Fact]
    public void Shutdown_LeavesStoredRequestsInTheStore_AndFailsTheOthers()
    {
        var h = Harness();
        h.Request("c1", "echo", "durable", Persist);
        h.Request("c1", "echo", "plain");
        h.Core.Shutdown();

        Assert.Equal(["stored durable"], _journal.Lines);
        Assert.Contains($"error c1 plain {PigatoErrorCodes.BrokerStopped}", h.Output.Sent);
        Assert.DoesNotContain($"error c1 durable {PigatoErrorCodes.BrokerStopped}", h.Output.Sent);
    }

    [Fact]
    public void WithoutAStore_PersistRequestsStillReattach_ButAreFailedAtShutdown()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo");
        h.Request("c1", "echo", "r1", Persist);
        h.Request("c1-new", "echo", "r1", Persist);
        h.Final("w1", "c1", "r1");
        Assert.Contains("relay c1-new r1", h.Output.Sent);

        h.Request("c1-new", "echo", "r2", Persist);
        h.Core.Shutdown();
        Assert.Contains($"error c1-new r2 {PigatoErrorCodes.BrokerStopped}", h.Output.Sent);
    }

    [Fact]
    public void TakenOverCopyOfARequestAnsweredHere_IsNotRunAgain_AndLeavesTheStore()
    {
        var h = Harness();
        h.Ready("w1", "echo");
        h.Request("c1", "echo", "r1", Persist);
        _journal.Unwritten.Add("r1");
        h.Final("w1", "c1", "r1");
        _journal.Lines.Clear();

        Assert.Equal(0, h.Core.Restore([Stored("r1", "c-of-the-dead-broker", "echo", Now(h))]));
        Assert.Single(h.Output.Of("request w1 r1"));
        Assert.Equal(["removed r1"], _journal.Lines);
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void AClientHeardAgainUnderTheSameIdentity_GetsTheReplyOfItsRequestReadBackFromTheStore()
    {
        var h = Harness();
        h.Core.Restore([Stored("r1", "node-client", "echo", Now(h))]);
        h.Ready("w1", "echo");
        h.Final("w1", "node-client", "r1");
        Assert.Equal(1, h.Core.Stats().KeptReplies);

        h.ClientHeartbeat("node-client");
        h.Core.RemovalsDurable(_journal.Waiting);

        Assert.Contains("kept-reply node-client r1", h.Output.Sent);
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
    }
}
