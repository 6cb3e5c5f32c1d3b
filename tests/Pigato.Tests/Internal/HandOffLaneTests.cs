using Pigato.Internal;

namespace Pigato.Tests.Internal;

/// <summary><see cref="HandOffLane"/>: its own threads while the actor is quiet and one of them free; the caller's pool otherwise.</summary>
public class HandOffLaneTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task QuietAndFree_RunsOnALaneThread_BothBusyOrNotQuiet_Declines()
    {
        var quiet = true;
        using var lane = new HandOffLane("test lane", () => quiet);
        using var release = new ManualResetEventSlim();
        var first = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var second = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.True(lane.TryRun(_ =>
        {
            first.SetResult(Thread.CurrentThread.Name);
            release.Wait(Bound); // user code that blocks the lane's thread
        }, null));
        Assert.Equal("test lane", await first.Task.WaitAsync(Bound));

        // The second thread takes what comes while the first runs (a continuation still returning when the next reply came).
        Assert.True(lane.TryRun(_ =>
        {
            second.SetResult(Thread.CurrentThread.Name);
            release.Wait(Bound);
        }, null));
        Assert.Equal("test lane", await second.Task.WaitAsync(Bound));

        Assert.False(lane.TryRun(_ => { }, null)); // both busy: the caller takes the pool, nothing waits behind the blocked work
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
