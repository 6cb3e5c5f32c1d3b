using Microsoft.Extensions.Logging;
using Pigato.Persistence;
using Pigato.Routing;
using static Pigato.Tests.Routing.CoreHarness;

namespace Pigato.Tests.Routing;

/// <summary>Poison-request quarantine: a retry or persist request whose workers keep vanishing while they hold it stops being dispatched.</summary>
public class PoisonTests
{
    private const string Retry = "{\"retry\":1}";

    /// <summary>Lets heartbeat periods pass, the other workers heartbeating, until the broker purges <paramref name="worker"/> (bounded).</summary>
    private static void UntilPurged(CoreHarness h, string worker, params string[] alive)
    {
        for (var i = 0; i < 10 && !h.Output.Sent.Contains("disconnect " + worker); i++)
        {
            foreach (var other in alive)
            {
                h.Heartbeat(other);
            }

            h.Tick();
        }

        Assert.Contains("disconnect " + worker, h.Output.Sent);
    }

    [Fact]
    public void ARetryRequest_HeldByTwoWorkersThatVanished_IsQuarantined_NotOfferedToAThird()
    {
        var h = new CoreHarness();
        h.Ready("w1", "crashy", 1);
        h.Request("c", "crashy", "r1", Retry, data: "\"boom-input\"");
        UntilPurged(h, "w1");

        h.Ready("w2", "crashy", 1);
        Assert.Equal("w2", h.WorkerOf("r1"));
        Assert.Contains("\"workersLost\":1", h.Output.OptionsSent["r1"], StringComparison.Ordinal);
        UntilPurged(h, "w2");
        h.Ready("w3", "crashy", 1);

        Assert.Equal([$"error c r1 {PigatoErrorCodes.Poison}"], h.Output.Of("error "));
        Assert.Equal("w2", h.WorkerOf("r1"));
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
        Assert.Equal(1, h.Metrics.Counters().Poisoned);
        var listed = Assert.Single(h.Core.Snapshot("b", 10).Poisoned);
        Assert.Equal(("crashy", "c", "r1", 2, "\"boom-input\""), (listed.Service, listed.Client, listed.Rid, listed.WorkersLost, listed.DataPrefix));
        var line = Assert.Single(h.Logger.Collector.GetSnapshot(), r => r.Id.Id == PigatoLogEvents.Poisoned);
        Assert.Equal(LogLevel.Warning, line.Level);
        Assert.Contains("'crashy'", line.Message, StringComparison.Ordinal);
        Assert.Contains("from client c (12 bytes of data)", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void WorkersThatLeaveSayingSo_OrNeverGotIt_DoNotCount()
    {
        var h = new CoreHarness();
        for (var i = 1; i <= 3; i++)
        {
            h.Ready("w" + i, "svc", 1);
            if (i == 1)
            {
                h.Request("c", "svc", "r1", Retry);
            }

            Assert.Equal("w" + i, h.WorkerOf("r1"));
            h.Core.WorkerDisconnect(B("w" + i));
        }

        h.Output.Batching.Add("w4");
        h.Ready("w4", "svc", 1);
        h.FailBatch("w4");

        Assert.Empty(h.Output.Of("error "));
        Assert.Equal(1, h.Core.Stats().QueuedRequests);
        Assert.DoesNotContain("workersLost", h.Output.OptionsSent["r1"], StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutRetry_AVanishedWorkersRequestFailsAsBefore_AndZeroTurnsTheQuarantineOff()
    {
        var plain = new CoreHarness();
        plain.Ready("w1", "svc", 1);
        plain.Request("c", "svc", "r1");
        UntilPurged(plain, "w1");
        Assert.Equal([$"error c r1 {PigatoErrorCodes.WorkerLost}"], plain.Output.Of("error "));

        var off = new CoreHarness(new BrokerOptions { Liveness = 3, MaxWorkersLostPerRequest = 0 });
        off.Request("c", "svc", "r1", Retry);
        for (var i = 1; i <= 4; i++)
        {
            off.Ready("w" + i, "svc", 1);
            UntilPurged(off, "w" + i);
        }

        off.Ready("w5", "svc", 1);

        Assert.Empty(off.Output.Of("error "));
        Assert.Equal("w5", off.WorkerOf("r1"));
        Assert.Contains("\"workersLost\":4", off.Output.OptionsSent["r1"], StringComparison.Ordinal);
    }

    [Fact]
    public void APersistRequest_KeepsItsCountInTheStore_AndAcrossARestart()
    {
        var journal = new RecordingJournal();
        var h = new CoreHarness(journal: journal);
        h.Ready("w1", "pay", 1);
        h.Request("c", "pay", "r1", "{\"persist\":true}");
        UntilPurged(h, "w1");

        Assert.Equal(["stored r1", "updated r1"], journal.Lines);
        Assert.Equal(1, h.Core.Stats().QueuedRequests);

        // Another broker reads it back from the store with its count: one more loss makes it poison.
        var restarted = new CoreHarness(journal: new RecordingJournal());
        var options = System.Text.Encoding.UTF8.GetBytes("{\"persist\":true,\"workersLost\":1}");
        restarted.Core.Restore([new StoredRequest(B("r1"), B("c"), "pay", B("1"), options, restarted.Time.GetUtcNow().ToUnixTimeMilliseconds())]);
        restarted.Ready("w2", "pay", 1);
        UntilPurged(restarted, "w2");

        Assert.Equal(1, restarted.Metrics.Counters().Poisoned);
        Assert.Equal(0, restarted.Core.Stats().StoredRequests);
    }

    [Fact]
    public void Stats_ListsTheQuarantinedRequests_ForPoisoned()
    {
        var h = new CoreHarness();
        h.Request("c", "crashy", "r1", Retry, data: "\"x\"");
        foreach (var worker in new[] { "w1", "w2" })
        {
            h.Ready(worker, "crashy", 1);
            UntilPurged(h, worker);
        }

        h.Request("c", BrokerCore.StatsService, "s1", data: "\"$poisoned\"");

        var answer = System.Text.Json.JsonDocument.Parse(h.Output.Replies[^1]).RootElement;
        var entry = Assert.Single(answer.EnumerateArray());
        Assert.Equal("r1", entry.GetProperty("rid").GetString());
        Assert.Equal("\"x\"", entry.GetProperty("dataPrefix").GetString());
        Assert.Equal(2, entry.GetProperty("workersLost").GetInt32());
    }
}
