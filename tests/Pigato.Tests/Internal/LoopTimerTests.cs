using System.Diagnostics;
using Pigato.Internal;

namespace Pigato.Tests.Internal;

/// <summary>A loop timer's schedule without a loop: due an interval after it was enabled, its interval set, or it ran.</summary>
public class LoopTimerTests
{
    private static readonly long Millisecond = Stopwatch.Frequency / 1000;

    [Fact]
    public void AnEnabledTimer_IsDueOneIntervalLater_AndRunsOnlyThen()
    {
        var runs = 0;
        var before = Stopwatch.GetTimestamp();
        var timer = new LoopTimer(TimeSpan.FromMilliseconds(50), () => runs++, enabled: true, () => { });

        Assert.InRange(timer.Due, before + (50 * Millisecond), Stopwatch.GetTimestamp() + (50 * Millisecond));
        timer.RunIfDue(timer.Due - 1, run => run());
        Assert.Equal(0, runs);

        var due = timer.Due;
        timer.RunIfDue(due, run => run());
        Assert.Equal(1, runs);
        Assert.Equal(due + (50 * Millisecond), timer.Due);
    }

    [Fact]
    public void ADisabledTimer_IsNeverDue_AndTheLoopHearsOfEveryChange()
    {
        var changes = 0;
        var timer = new LoopTimer(TimeSpan.FromSeconds(1), () => { }, enabled: false, () => changes++);

        Assert.Equal(long.MaxValue, timer.Due);
        timer.Interval = TimeSpan.FromMilliseconds(5);
        Assert.Equal(long.MaxValue, timer.Due);

        timer.Enable = true;
        Assert.NotEqual(long.MaxValue, timer.Due);
        timer.Enable = true; // no change
        timer.Enable = false;

        Assert.Equal(long.MaxValue, timer.Due);
        Assert.Equal(2, changes);
    }

    [Fact]
    public void ACallbackThatDisablesItsTimer_LeavesItDisabled_AndIntervalsBelowAMillisecondAreOne()
    {
        LoopTimer? timer = null;
        timer = new LoopTimer(TimeSpan.Zero, () => timer!.Enable = false, enabled: true, () => { });

        Assert.Equal(TimeSpan.FromMilliseconds(1), timer.Interval);
        timer.RunIfDue(timer.Due, run => run());

        Assert.False(timer.Enable);
        Assert.Equal(long.MaxValue, timer.Due);
    }
}
