using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>A client's cancellation (<c>C, 4, cancel, rid</c>) in the broker core: where it finds the request decides what happens.</summary>
public class CancellationTests
{
    private static void ReadyV2(CoreHarness h, string worker, string service, int concurrency) =>
        h.Core.WorkerReady(CoreHarness.B(worker), CoreHarness.B(service), CoreHarness.B($"{{\"v\":2,\"concurrency\":{concurrency}}}"));

    private static void Cancel(CoreHarness h, string client, string rid) => h.Core.ClientCancel(CoreHarness.B(client), CoreHarness.B(rid));

    [Fact]
    public void Queued_IsDroppedAtOnce_WithoutAnAnswer_AndNeverReachesAWorker()
    {
        var h = new CoreHarness();
        h.Request("c1", "echo", "r1");
        Cancel(h, "c1", "r1");
        h.Ready("w1", "echo");

        Assert.Empty(h.Output.Of("request "));
        Assert.Empty(h.Output.Of("error "));
        Assert.Equal(BrokerStats.Empty with { Workers = 1, Services = 1 }, h.Core.Stats());
        Assert.Equal(1, h.Metrics.Counters().Cancelled);
    }

    [Fact]
    public void AtAV2Worker_TheWorkerIsTold_ItsRepliesAreDropped_AndItsFinalReplyFreesTheSlotForTheNext()
    {
        var h = new CoreHarness();
        ReadyV2(h, "w1", "echo", concurrency: 1);
        h.Request("c1", "echo", "r1");
        h.Request("c2", "echo", "r2");
        Cancel(h, "c1", "r1");

        Assert.Equal(["cancel w1 r1"], h.Output.Of("cancel "));
        Assert.Equal(["request w1 r1"], h.Output.Of("request "));

        h.Partial("w1", "c1", "r1");
        h.Error("w1", "c1", "r1", "\"ERR_CANCELLED\"");

        Assert.Empty(h.Output.Of("relay "));
        Assert.Equal(["request w1 r1", "request w1 r2"], h.Output.Of("request "));
        Assert.Equal(1, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void AtAWorker_TheOutputIsToldOnce_AndALateReplyGoesNowhere()
    {
        // Whether the worker can be told (v2) or not (v1: nothing is sent, CompactFramingTests) is the output's business.
        var h = new CoreHarness();
        h.Ready("w1", "echo");
        h.Request("c1", "echo", "r1");
        Cancel(h, "c1", "r1");
        Cancel(h, "c1", "r1");
        h.Final("w1", "c1", "r1");

        Assert.Equal(["cancel w1 r1"], h.Output.Of("cancel "));
        Assert.Empty(h.Output.Of("relay "));
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void RejectedOrItsWorkerLost_ACancelledRequestIsNotRetried()
    {
        var h = new CoreHarness();
        ReadyV2(h, "w1", "echo", concurrency: 5);
        ReadyV2(h, "w2", "echo", concurrency: 5);
        h.Request("c1", "echo", "r1", options: "{\"retry\":1}");
        h.Request("c1", "echo", "r2", options: "{\"retry\":1}");
        var first = h.WorkerOf("r1")!;
        Cancel(h, "c1", "r1");
        Cancel(h, "c1", "r2");

        h.Reject(first, "c1", "r1");
        h.Core.WorkerDisconnect(CoreHarness.B(h.WorkerOf("r2") ?? first));

        Assert.Equal(2, h.Output.Of("request ").Length);
        Assert.Empty(h.Output.Of("error "));
        Assert.Equal(0, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void AnsweredOrUnknown_TheCancellationIsIgnored()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo");
        h.Request("c1", "echo", "r1");
        h.Final("w1", "c1", "r1");
        Cancel(h, "c1", "r1");
        Cancel(h, "c1", "never-sent");
        Cancel(h, "stranger", "r1");

        Assert.Equal(["relay c1 r1"], h.Output.Of("relay "));
        Assert.Equal(0, h.Metrics.Counters().Cancelled);
    }

    [Fact]
    public void AClientWhoseQueueOverflows_GetsSlowConsumerPastTheBound_NotAStreamWithHoles()
    {
        // A v1 relay is one message per partial: a client reading slower than its worker streams fills its queue.
        var h = new CoreHarness();
        ReadyV2(h, "w1", "echo", concurrency: 1);
        h.Request("c1", "echo", "r1");
        h.Request("c2", "echo", "r2");
        h.Partial("w1", "c1", "r1");
        h.Output.Overflowing.Add("c1");

        h.Partial("w1", "c1", "r1"); // overflows: the request ends for its client, the worker is told to stop
        h.Output.Overflowing.Remove("c1");
        h.Partial("w1", "c1", "r1"); // room again: still nothing more goes to the client
        h.Final("w1", "c1", "r1");

        Assert.Equal(["relay c1 r1"], h.Output.Of("relay c1"));
        Assert.Equal(["error c1 r1 ERR_SLOW_CONSUMER past the bound"], h.Output.Of("error "));
        Assert.Equal(["cancel w1 r1"], h.Output.Of("cancel "));
        Assert.Equal(["request w1 r1", "request w1 r2"], h.Output.Of("request ")); // the final freed the worker's slot
        Assert.Equal(1, h.Core.Stats().TrackedRequests);
    }

    [Fact]
    public void AFinalReplyThatOverflows_EndsTheRequestWithSlowConsumer_AndFreesTheWorker()
    {
        var h = new CoreHarness();
        ReadyV2(h, "w1", "echo", concurrency: 1);
        h.Request("c1", "echo", "r1");
        h.Request("c2", "echo", "r2");
        h.Output.Overflowing.Add("c1");

        h.Final("w1", "c1", "r1");

        Assert.Empty(h.Output.Of("relay "));
        Assert.Equal(["error c1 r1 ERR_SLOW_CONSUMER past the bound"], h.Output.Of("error "));
        Assert.Empty(h.Output.Of("cancel "));
        Assert.Equal(["request w1 r1", "request w1 r2"], h.Output.Of("request "));
        Assert.Equal(1, h.Core.Stats().TrackedRequests);
    }
}
