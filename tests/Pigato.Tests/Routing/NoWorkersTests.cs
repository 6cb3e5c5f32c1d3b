using Pigato.Routing;

namespace Pigato.Tests.Routing;

/// <summary>"No workers, at once": a request that asks for it fails with ERR_NO_WORKERS when no registered worker can serve it.</summary>
public class NoWorkersTests
{
    private const string Fail = "{\"failWithoutWorkers\":true}";

    [Fact]
    public void WithoutAWorker_ARequestThatAsks_FailsAtOnce_OthersWaitAsInPigato()
    {
        var h = new CoreHarness();

        h.Request("c", "nobody", "fast", Fail);
        h.Request("c", "nobody", "waits");

        Assert.Equal([$"error c fast {PigatoErrorCodes.NoWorkers}"], h.Output.Of("error "));
        Assert.Equal(1, h.Core.Stats().QueuedRequests);
    }

    [Theory]
    [InlineData("ech*", "echo", true)]
    [InlineData("svc@1.2.3", "svc@^1", true)]
    [InlineData("svc@1.2.3", "svc@^2", false)]
    [InlineData("echo", "echo", true)]
    [InlineData("echo", "other", false)]
    public void WildcardAndSemverWorkers_Count(string registered, string requested, bool served)
    {
        var h = new CoreHarness();
        h.Ready("w", registered, 5);

        h.Request("c", requested, "r", Fail);

        Assert.Equal(served ? "w" : null, h.WorkerOf("r"));
        Assert.Equal(served ? [] : [$"error c r {PigatoErrorCodes.NoWorkers}"], h.Output.Of("error "));
    }

    [Fact]
    public void BrokerDefault_AppliesToRequestsThatDoNotSay_ARequestMayOptOut()
    {
        var h = new CoreHarness(new BrokerOptions { FailWithoutWorkers = true });

        h.Request("c", "nobody", "default");
        h.Request("c", "nobody", "waits", "{\"failWithoutWorkers\":false}");

        Assert.Equal([$"error c default {PigatoErrorCodes.NoWorkers}"], h.Output.Of("error "));
        Assert.Equal(1, h.Core.Stats().QueuedRequests);
    }
}
