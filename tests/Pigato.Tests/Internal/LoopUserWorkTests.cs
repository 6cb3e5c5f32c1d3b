using System.Diagnostics;
using Pigato.Internal;

namespace Pigato.Tests.Internal;

/// <summary>
/// User code on the loop's own thread (<see cref="ActorLoop.TryRunAfter"/>): it runs after the wake-up's callbacks, posts
/// like any other thread, and one that holds the thread loses the loop to a new thread, which goes on serving.
/// </summary>
public class LoopUserWorkTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task UserWork_RunsOnTheLoopThreadAfterTheCallback_AndPostsLikeAnyOtherThread()
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq: false);
        await loop.StartAsync();
        var order = new List<string>();
        var posted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var loopThread = await loop.InvokeAsync(() =>
        {
            var thread = Environment.CurrentManagedThreadId;
            Assert.True(loop.TryRunAfter(_ =>
            {
                order.Add($"user code: loop thread {Environment.CurrentManagedThreadId == thread}, in a callback {loop.IsCurrent}");
                loop.RunOrPost(() =>
                {
                    order.Add("posted by user code");
                    posted.SetResult();
                });
            }, null));
            order.Add("callback ends");
            return thread;
        });
        await posted.Task.WaitAsync(Bound);

        Assert.Equal(["callback ends", "user code: loop thread True, in a callback False", "posted by user code"], order);
        Assert.Equal(loopThread, await loop.InvokeAsync(() => Environment.CurrentManagedThreadId));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TryRunAfter_OffTheLoop_OrOnNetMqsPoller_Declines(bool withNetMq)
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq);
        await loop.StartAsync();

        Assert.False(loop.TryRunAfter(_ => { }, null));
        Assert.Equal(!withNetMq, await loop.InvokeAsync(() => loop.TryRunAfter(_ => { }, null)));
    }

    [Fact]
    public async Task UserWorkThatHoldsTheThread_LosesTheLoop_WhichGoesOnServing_AndTheRestOfItsWakeUpRunsOnThePool()
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq: false);
        var held = new TaskCompletionSource<(TimeSpan Elapsed, TimeSpan Cooldown, bool RunsUserCode)>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.UserCodeHeld = (elapsed, cooldown) => held.TrySetResult((elapsed, cooldown, loop.TryRunAfter(_ => { }, null)));
        await loop.StartAsync();
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var next = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        var oldThread = await loop.InvokeAsync(() =>
        {
            loop.TryRunAfter(_ =>
            {
                started.Set();
                release.Wait(Bound); // the user code under test holds the thread
            }, null);
            loop.TryRunAfter(_ => next.SetResult(Thread.CurrentThread.IsThreadPoolThread), null);
            return Environment.CurrentManagedThreadId;
        });
        Assert.True(started.Wait(Bound));

        // While the first still holds the old thread: a command runs, on the loop's new thread, which says why it moved.
        var newThread = await loop.InvokeAsync(() => Environment.CurrentManagedThreadId).WaitAsync(Bound);
        Assert.NotEqual(oldThread, newThread);
        var (elapsed, cooldown, runsUserCode) = await held.Task.WaitAsync(Bound);
        Assert.InRange(elapsed, ActorLoop.HoldLimit, Bound);
        Assert.Equal(ActorLoop.FirstCooldown, cooldown);
        Assert.False(runsUserCode, "user code goes elsewhere during the cooldown");
        Assert.False(next.Task.IsCompleted);

        release.Set();
        Assert.True(await next.Task.WaitAsync(Bound), "the rest of the wake-up's user code runs on the thread pool");
    }

    [Fact]
    public async Task TheWatchdogsLook_IsDueWhenTheUserCodeRunningNowWouldReachTheLimit_AndNeverWhileNoneRan()
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq: false);
        await loop.StartAsync();
        Assert.Equal(long.MaxValue, loop.CheckHeld(Stopwatch.GetTimestamp()));

        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        var before = Stopwatch.GetTimestamp();
        await loop.InvokeAsync(() => loop.TryRunAfter(_ =>
        {
            started.Set();
            release.Wait(Bound); // the user code under test holds the thread
        }, null));
        Assert.True(started.Wait(Bound));
        var after = Stopwatch.GetTimestamp();

        // A look half a limit after the run began at the earliest: not held too long yet, due when it would be.
        var limit = (long)(ActorLoop.HoldLimit.TotalSeconds * Stopwatch.Frequency);
        var due = loop.CheckHeld(before + limit / 2);
        release.Set();

        Assert.InRange(due, before + limit, after + limit);
    }

    [Fact]
    public async Task UserWorkThatHoldsTheLoopAgain_AfterItsCooldown_DoublesIt()
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq: false);
        var cooldowns = new System.Collections.Concurrent.BlockingCollection<TimeSpan>();
        loop.UserCodeHeld = (_, cooldown) => cooldowns.Add(cooldown);
        await loop.StartAsync();

        for (var round = 0; round < 2; round++)
        {
            using var release = new ManualResetEventSlim();
            var clock = Stopwatch.StartNew();
            while (!await loop.InvokeAsync(() => loop.TryRunAfter(_ => release.Wait(Bound), null))) // the user code under test holds the thread
            {
                Assert.True(clock.Elapsed < Bound, "Timed out waiting for the cooldown to end");
                await Task.Delay(10);
            }

            Assert.True(cooldowns.TryTake(out var cooldown, Bound), "the loop to move");
            Assert.Equal(ActorLoop.FirstCooldown * (round + 1), cooldown);
            release.Set();
        }
    }

    [Fact]
    public async Task UserWorkBeyondTheWakeUpsBudget_GoesToThePool()
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq: false);
        await loop.StartAsync();
        var next = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        await loop.InvokeAsync(() =>
        {
            loop.TryRunAfter(_ =>
            {
                var clock = Stopwatch.StartNew();
                while (clock.Elapsed <= ActorLoop.UserWorkBudget)
                {
                    Thread.SpinWait(100); // user code that spends the whole budget (and less than the hold limit)
                }
            }, null);
            loop.TryRunAfter(_ => next.SetResult(Thread.CurrentThread.IsThreadPoolThread), null);
        });

        Assert.True(await next.Task.WaitAsync(Bound), "what the budget leaves runs on the thread pool");
    }

    [Fact]
    public async Task Dispose_WhileUserWorkHoldsTheThread_ReturnsOnceTheLoopMovedAndStopped()
    {
        var loop = new ActorLoop("Test", _ => { }, withNetMq: false);
        await loop.StartAsync();
        using var release = new ManualResetEventSlim();
        using var started = new ManualResetEventSlim();
        await loop.InvokeAsync(() => loop.TryRunAfter(_ =>
        {
            started.Set();
            release.Wait(Bound); // the user code under test holds the thread
        }, null));
        Assert.True(started.Wait(Bound));

        await Task.Run(loop.Dispose).WaitAsync(Bound);

        Assert.False(release.IsSet);
        await Assert.ThrowsAsync<PigatoException>(() => loop.InvokeAsync(() => { }));
        release.Set();
    }
}
