using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>
/// One send outcome for both framings: a request that never reached its worker goes back to its queue, whether the send
/// failed at once (v1) or its batch failed later (v2); only requests the worker held are failed (or retried).
/// </summary>
public class SendOutcomeTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BatchThatCannotBeDelivered_ItsRequestsGoBackToTheirQueue_WithoutRetry(bool overflow)
    {
        var h = new CoreHarness();
        h.Output.Batching.Add("w1");
        h.Ready("w1", "echo", 10);
        h.Request("c", "echo", "r1");
        h.Request("c", "echo", "r2");
        Assert.Equal("w1", h.WorkerOf("r2"));

        h.FailBatch("w1", overflow);
        h.Ready("w2", "echo", 10);

        Assert.Equal("w2", h.WorkerOf("r1"));
        Assert.Equal("w2", h.WorkerOf("r2"));
        Assert.Empty(h.Output.Of("error "));
    }

    [Fact]
    public void BatchThatCannotBeDelivered_RequestsTheWorkerAlreadyHeld_FailAsWithALostWorker()
    {
        var h = new CoreHarness();
        h.Output.Batching.Add("w1");
        h.Ready("w1", "echo", 10);
        h.Request("c", "echo", "delivered");
        h.Output.Batches.Clear(); // its batch went out: the worker holds it
        h.Request("c", "echo", "pending");

        h.FailBatch("w1");

        Assert.Equal([$"error c delivered {PigatoErrorCodes.WorkerLost}"], h.Output.Of("error "));
        Assert.Equal(1, h.Core.Stats().QueuedRequests);
    }

    [Fact]
    public void V1SendThatFailsAtOnce_ItsRequestGoesBackToItsQueue()
    {
        var h = new CoreHarness();
        h.Ready("w1", "echo", 10);
        h.Output.Unreachable.Add("w1");
        h.Request("c", "echo", "r1");

        h.Ready("w2", "echo", 10);

        Assert.Equal("w2", h.WorkerOf("r1"));
        Assert.Empty(h.Output.Of("error "));
    }
}
