using Pigato.Internal;

namespace Pigato.Tests.Internal;

/// <summary><see cref="HandOffLane"/>: its own thread while the actor is quiet and the lane free; the caller's pool otherwise.</summary>
public class HandOffLaneTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task QuietAndFree_RunsOnTheLanesThread_BusyOrNotQuiet_Declines()
    {
        var quiet = true;
        using var lane = new HandOffLane("test lane", () => quiet);
        using var release = new ManualResetEventSlim();
        var ran = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.True(lane.TryRun(_ =>
        {
            ran.SetResult(Thread.CurrentThread.Name);
            release.Wait(Bound); // user code that blocks the lane
        }, null));
        Assert.Equal("test lane", await ran.Task.WaitAsync(Bound));

        Assert.False(lane.TryRun(_ => { }, null)); // busy: the caller takes the pool, nothing waits behind the blocked work
        release.Set();
        Assert.True(SpinWait.SpinUntil(() => lane.TryRun(_ => { }, null), Bound), "the lane is free again once its work returned");

        quiet = false;
        Assert.True(SpinWait.SpinUntil(() => !lane.TryRun(_ => { }, null), Bound));
    }

    [Fact]
    public async Task Disposed_Declines_AfterRunningWhatItWasGiven()
    {
        var lane = new HandOffLane("test lane", () => true);
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var release = new ManualResetEventSlim();
        Assert.True(lane.TryRun(_ =>
        {
            release.Wait(Bound);
            ran.SetResult();
        }, null));

        lane.Dispose();
        release.Set();

        await ran.Task.WaitAsync(Bound);
        Assert.False(lane.TryRun(_ => { }, null));
    }
}
