using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>The broker's rules, without sockets or sleeps: messages in, decisions out, time from a fake clock.</summary>
public class BrokerCoreTests
{
    [Fact]
    public void Request_GoesToTheWorkerWithFewestInFlight_ThenFewestServed()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 10);
        h.Ready("w2", "echo", 10);

        h.Request("c", "echo", "r1");
        h.Request("c", "echo", "r2");
        Assert.NotEqual(h.WorkerOf("r1"), h.WorkerOf("r2"));

        h.Final(h.WorkerOf("r1")!, "c", "r1");
        h.Final(h.WorkerOf("r2")!, "c", "r2");
        h.Request("c", "echo", "r3");
        h.Final(h.WorkerOf("r3")!, "c", "r3");
        h.Request("c", "echo", "r4");

        // Both idle; the one that served fewer (one against two) takes the next.
        Assert.NotEqual(h.WorkerOf("r3"), h.WorkerOf("r4"));
        Assert.Equal(["relay c r1", "relay c r2", "relay c r3"], h.Output.Of("relay "));
    }

    [Fact]
    public void LoadDispatch_SpreadsEvenly_OverManyRequests()
    {
        var h = new CoreHarness();
        string[] workers = ["w1", "w2", "w3", "w4"];
        foreach (var worker in workers)
        {
            h.Ready(worker, "echo", 1);
        }

        for (var i = 0; i < 400; i++)
        {
            h.Request("c", "echo", "r" + i);
            h.Final(h.WorkerOf("r" + i)!, "c", "r" + i);
        }

        var served = h.Output.Of("request ").GroupBy(line => line.Split(' ')[1]).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(workers, w => Assert.Equal(100, served[w]));
    }

    [Fact]
    public void RandDispatch_ServesEveryWorker()
    {
        var h = new CoreHarness(new BrokerOptions { DispatchMode = DispatchMode.Rand });
        h.Ready("w1", "echo", -1);
        h.Ready("w2", "echo", -1);
        h.Ready("w3", "echo", -1);

        for (var i = 0; i < 60; i++)
        {
            h.Request("c", "echo", "r" + i);
        }

        Assert.Equal(3, h.Output.Of("request ").Select(line => line.Split(' ')[1]).Distinct().Count());
    }

    [Fact]
    public void Concurrency_FromReady_ThenFromHeartbeat_LimitsInFlight()
    {
        var h = new CoreHarness();
        h.Ready("w", "echo", 1);
        h.Request("c", "echo", "r1");
        h.Request("c", "echo", "r2");
        Assert.Single(h.Output.Of("request "));
        Assert.Equal(new BrokerStats { Workers = 1, Services = 1, QueuedRequests = 1, InFlightRequests = 1, TrackedRequests = 2 }, h.Core.Stats() with { HeldBytes = 0, Clients = 0 });

        h.Heartbeat("w", 2);

        Assert.Equal("w", h.WorkerOf("r2"));
        Assert.Equal(0, h.Core.Stats().QueuedRequests);
    }

    [Fact]
    public void WorkerWithoutConcurrencyFrame_TakesTheDefaultUntilItsFirstHeartbeat()
    {
        var h = new CoreHarness();
        h.Ready("node-worker", "echo");
        for (var i = 0; i < BrokerCore.DefaultWorkerConcurrency + 5; i++)
        {
            h.Request("c", "echo", "r" + i);
        }

        Assert.Equal(BrokerCore.DefaultWorkerConcurrency, h.Output.Of("request ").Length);
    }

    [Fact]
    public void WorkerId_WaitsForThatWorker_WithoutBlockingTheQueue()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 1);
        h.Request("c", "echo", "r1");
        h.Request("c", "echo", "for-w2", "{\"workerId\":\"w2\"}");
        h.Request("c", "echo", "r3");
        h.Ready("w2", "echo", 1);

        Assert.Equal("w1", h.WorkerOf("r1"));
        Assert.Equal("w2", h.WorkerOf("for-w2"));
        Assert.Null(h.WorkerOf("r3"));

        h.Final("w1", "c", "r1");
        Assert.Equal("w1", h.WorkerOf("r3"));
    }

    [Fact]
    public void Reject_GoesToAnotherWorker_AndNeverBackToTheRejecter()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 5);
        h.Request("c", "echo", "r");
        h.Reject("w1", "c", "r");
        Assert.Single(h.Output.Of("request "));

        h.Ready("w2", "echo", 5);
        Assert.Equal("w2", h.WorkerOf("r"));
        h.Reject("w2", "c", "r");

        // Everyone rejected it: it waits for a new worker, even when the old ones are idle.
        h.Heartbeat("w1");
        Assert.Equal(2, h.Output.Of("request ").Length);
        h.Ready("w3", "echo", 5);
        Assert.Equal("w3", h.WorkerOf("r"));
    }

    [Fact]
    public void WorkerLost_RetryRequestsGoToAnotherWorker_OthersFailWithWorkerLost()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 5);
        h.Request("c", "echo", "plain");
        h.Request("c", "echo", "retry", "{\"retry\":1}");

        h.Core.WorkerDisconnect(CoreHarness.B("w1"));

        Assert.Equal(["error c plain ERR_WORKER_LOST"], h.Output.Of("error "));
        h.Ready("w2", "echo", 5);
        Assert.Equal("w2", h.WorkerOf("retry"));
        Assert.Equal(new BrokerStats { Workers = 1, Services = 1, InFlightRequests = 1, TrackedRequests = 1 }, h.Core.Stats() with { HeldBytes = 0, Clients = 0 });
    }

    [Fact]
    public void UnreachableWorker_IsDropped_AndItsRequestGoesToAnother()
    {
        var h = new CoreHarness();
        h.Ready("gone", "echo", 5);
        h.Ready("alive", "echo", 5);
        h.Output.Unreachable.Add("gone");

        h.Request("c", "echo", "r1");
        h.Request("c", "echo", "r2");

        Assert.Equal(["request alive r1", "request alive r2"], h.Output.Of("request "));
        Assert.Equal(1, h.Core.Stats().Workers);
    }

    [Fact]
    public void QueuedRequest_ExpiresAfterItsTimeout_InfiniteNever()
    {
        var h = new CoreHarness(new BrokerOptions { HeartbeatInterval = TimeSpan.FromSeconds(1) });
        h.Request("c", "nobody", "short", "{\"timeout\":1500}");
        h.Request("c", "nobody", "forever", "{\"timeout\":-1}");

        h.Tick();
        Assert.Equal(2, h.Core.Stats().QueuedRequests);
        h.Tick();
        Assert.Equal(1, h.Core.Stats().QueuedRequests);

        h.Time.Advance(TimeSpan.FromDays(30));
        h.ClientHeartbeat("c");
        h.Tick();
        h.Ready("w", "nobody", 5);
        Assert.Equal(["request w forever"], h.Output.Of("request "));
    }

    [Fact]
    public void ExpiredRequest_IsDroppedAtDispatch_BeforeAnyTick()
    {
        var h = new CoreHarness();
        h.Request("c", "echo", "stale", "{\"timeout\":100}");
        h.Request("c", "echo", "fresh", "{\"timeout\":100000}");
        h.Time.Advance(TimeSpan.FromMilliseconds(200));

        h.Ready("w", "echo", 5);

        Assert.Equal(["request w fresh"], h.Output.Of("request "));
        Assert.Equal(1, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void SilentWorker_IsPurgedAfterLiveness_WithDisconnect_AndItsRequestsSettled()
    {
        var h = new CoreHarness(new BrokerOptions { Liveness = 2 });
        h.Ready("w", "echo", 5);
        h.Request("c", "echo", "r");

        h.Tick();
        h.Tick();
        Assert.Equal(1, h.Core.Stats().Workers);
        Assert.Contains("heartbeat w", h.Output.Sent);
        h.Tick();

        Assert.Equal(0, h.Core.Stats().Workers);
        Assert.Contains("disconnect w", h.Output.Sent);
        Assert.Equal(["error c r ERR_WORKER_LOST"], h.Output.Of("error "));
    }

    [Fact]
    public void HeartbeatingWorker_StaysRegistered()
    {
        var h = new CoreHarness(new BrokerOptions { Liveness = 1 });
        h.Ready("w", "echo", 5);
        for (var i = 0; i < 10; i++)
        {
            h.Heartbeat("w");
            h.Tick();
        }

        Assert.Equal(1, h.Core.Stats().Workers);
        Assert.DoesNotContain("disconnect w", h.Output.Sent);
    }

    [Fact]
    public void SameRid_FromTwoClients_AreTwoRequests()
    {
        var h = new CoreHarness();
        h.Ready("w", "echo", 5);
        h.Request("alice", "echo", "same");
        h.Request("bob", "echo", "same");

        Assert.Equal(2, h.Output.Of("request w same").Length);
        h.Final("w", "bob", "same");
        h.Final("w", "alice", "same");
        Assert.Equal(["relay bob same", "relay alice same"], h.Output.Of("relay "));
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void DuplicateRid_FromTheSameClient_IsReported_AndIgnored()
    {
        var h = new CoreHarness();
        h.Request("c", "echo", "r");
        h.Request("c", "echo", "r");

        Assert.Equal(["ERR_REQ_INVALID c"], h.Output.Errors);
        Assert.Equal(1, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void RequestHeartbeat_IsForwarded_OnlyFromTheRequestsOwnClient()
    {
        var h = new CoreHarness();
        h.Ready("w", "echo", 5);
        h.Request("owner", "echo", "r");

        h.Core.ClientRequestHeartbeat(CoreHarness.B("intruder"), CoreHarness.B("r"));
        h.Core.ClientRequestHeartbeat(CoreHarness.B("owner"), CoreHarness.B("r"));

        Assert.Equal(["request-heartbeat w r"], h.Output.Of("request-heartbeat "));
    }

    [Fact]
    public void Reply_ForARequestTheWorkerDoesNotHold_DisconnectsIt_AndSettlesItsRequests()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 5);
        h.Ready("w2", "echo", 5);
        h.Request("c", "echo", "r1");
        var holder = h.WorkerOf("r1")!;
        var other = holder == "w1" ? "w2" : "w1";

        h.Final(other, "c", "r1");

        Assert.Contains("disconnect " + other, h.Output.Sent);
        Assert.Empty(h.Output.Of("relay "));
        h.Final(holder, "c", "r1");
        Assert.Equal(["relay c r1"], h.Output.Of("relay "));
    }

    [Fact]
    public void MessageFromAnUnknownWorker_GetsDisconnect()
    {
        var h = new CoreHarness();
        h.Heartbeat("stranger");

        Assert.Equal(["disconnect stranger"], h.Output.Sent);
        Assert.Equal(["ERR_WORKER_PROTOCOL stranger"], h.Output.Errors);
    }

    [Fact]
    public void WildcardWorker_ServesARequestQueuedBeforeItRegistered()
    {
        var h = new CoreHarness();
        h.Request("c", "echo.fast", "r");
        h.Ready("w", "echo*", 5);

        Assert.Equal("w", h.WorkerOf("r"));
    }

    [Fact]
    public void Partials_AreRelayed_AndOnlyTheFinalEndsTheRequest()
    {
        var h = new CoreHarness();
        h.Ready("w", "echo", 5);
        h.Request("c", "echo", "r");
        h.Partial("w", "c", "r");
        h.Partial("w", "c", "r");
        Assert.Equal(1, h.Core.Stats().TrackedRequests);

        h.Final("w", "c", "r");

        Assert.Equal(3, h.Output.Of("relay c r").Length);
        Assert.Equal(new BrokerStats { Workers = 1, Services = 1 }, h.Core.Stats());
    }

    [Fact]
    public void Directory_IsPublished_WhenWorkersComeAndGo()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 5);
        h.Time.Advance(BrokerDirectory.Period);
        h.Core.WorkerDisconnect(CoreHarness.B("w1"));

        Assert.Equal(["$dir {\"echo\":[\"w1\"]}", "$dir {\"echo\":[]}"], h.Output.Directories);
    }

    [Fact]
    public void WorkersRegisteringTogether_AreEachPublishedAtOnce_AsPigatosBrokerDoes()
    {
        // PIGATO's own directory test: six workers register, a $dir request 10 ms later must list all of them.
        var h = new CoreHarness();
        for (var i = 0; i < 6; i++)
        {
            h.Ready("w" + i, i < 3 ? "good" : "bad", 5);
        }

        Assert.Equal(6, h.Output.Directories.Count);
        Assert.Equal("$dir {\"good\":[\"w0\",\"w1\",\"w2\"],\"bad\":[\"w3\",\"w4\",\"w5\"]}", h.Output.Directories[^1]);
    }

    [Fact]
    public void Directory_IsPublishedAgainEveryHeartbeat_ForADirectoryThatSubscribedLate()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 5);
        h.Tick();
        h.Tick();

        Assert.Equal(Enumerable.Repeat("$dir {\"echo\":[\"w1\"]}", 3), h.Output.Directories);
    }

    [Fact]
    public void DirectoryPublications_AreCoalesced_DuringAFlood()
    {
        var h = new CoreHarness();
        for (var i = 0; i < 1000; i++)
        {
            h.Ready("w" + i, "svc" + (i % 24), 5);
        }

        // At once while the period's publications list few workers (1 + 2 + ... + n <= 4096: n = 90), then coalesced.
        var atOnce = h.Output.Directories.Count;
        Assert.InRange(atOnce, 2, 100);
        h.Core.PublishDirectoryIfChanged();
        h.Core.PublishDirectoryIfChanged();

        Assert.Equal(atOnce + 1, h.Output.Directories.Count);
        Assert.Equal(1000, System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string[]>>(h.Output.Directories[^1]["$dir ".Length..])!.Values.Sum(v => v.Length));
    }

    [Fact]
    public void Shutdown_FailsEveryHeldRequest_AndDisconnectsEveryWorker()
    {
        var h = new CoreHarness();
        h.Ready("w", "echo", 1);
        h.Request("c", "echo", "in-flight");
        h.Request("c", "echo", "queued");

        h.Core.Shutdown();

        Assert.Equal(["error c in-flight ERR_BROKER_STOPPED", "error c queued ERR_BROKER_STOPPED"], h.Output.Of("error ").Order());
        Assert.Contains("disconnect w", h.Output.Sent);
        Assert.Equal(BrokerStats.Empty, h.Core.Stats());
    }

    [Fact]
    public void NamesOnlyRequested_AreForgotten_OnceNothingWaits()
    {
        var h = new CoreHarness(new BrokerOptions { HeartbeatInterval = TimeSpan.FromSeconds(1) });
        for (var i = 0; i < 100; i++)
        {
            h.Request("c", "random-" + i, "r" + i, "{\"timeout\":10}");
        }

        h.Tick();

        Assert.Equal(BrokerStats.Empty, h.Core.Stats());
    }
}

/// <summary>Cases the property tests found, kept as plain tests.</summary>
public class BrokerCoreRegressionTests
{
    [Fact]
    public void RequestedNameWithARequestInFlight_IsNotForgotten_SoARetryComesBackToAQueueThatIsServed()
    {
        var h = new CoreHarness();
        h.Ready("w1", "svc@1.2.3", 1);
        h.Request("c", "svc@^1", "r", "{\"retry\":1}");
        Assert.Equal("w1", h.WorkerOf("r"));

        h.Tick();
        h.Core.WorkerDisconnect(CoreHarness.B("w1"));
        h.Ready("w2", "svc@1.2.3", 1);

        Assert.Equal("w2", h.WorkerOf("r"));
        var stats = h.Core.Stats();
        Assert.Equal(stats.TrackedRequests, stats.QueuedRequests + stats.InFlightRequests);
    }
}
