using Pigato.Internal;

namespace Pigato.Tests.Internal;

/// <summary>The actor loop's <see cref="ActorLoop.RunOrPost(Action)"/>: at once on the loop's own thread, posted from any other; commands with a state.</summary>
public class ActorLoopTests
{
    [Fact]
    public async Task RunOrPost_OnTheLoop_RunsAtOnce_BeforeWhatWasPostedEarlier()
    {
        using var loop = new ActorLoop("Test", _ => { });
        await loop.StartAsync();
        var order = new List<string>();

        await loop.InvokeAsync(() =>
        {
            loop.Post(() => order.Add("posted"));
            loop.RunOrPost(() => order.Add("run at once"));
            order.Add("callback ends");
        });
        await loop.InvokeAsync(() => { });

        Assert.Equal(["run at once", "callback ends", "posted"], order);
    }

    [Fact]
    public async Task RunOrPost_FromAnotherThread_RunsOnTheLoop()
    {
        using var loop = new ActorLoop("Test", _ => { });
        await loop.StartAsync();
        var onLoop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.False(loop.IsCurrent);
        loop.RunOrPost(() => onLoop.TrySetResult(loop.IsCurrent));

        Assert.True(await onLoop.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task RunOrPost_OnTheLoop_AFailureIsReportedNotThrown()
    {
        var reported = new List<Exception>();
        using var loop = new ActorLoop("Test", reported.Add);
        await loop.StartAsync();
        var after = false;

        await loop.InvokeAsync(() =>
        {
            loop.RunOrPost(() => throw new InvalidOperationException("boom"));
            after = true;
        });

        Assert.True(after);
        Assert.Equal("boom", Assert.Single(reported).Message);
    }

    [Fact]
    public async Task RunOrPost_AfterDispose_Throws()
    {
        var loop = new ActorLoop("Test", _ => { });
        await loop.StartAsync();
        loop.Dispose();

        var error = Assert.Throws<PigatoException>(() => loop.RunOrPost(() => { }));

        Assert.Equal(PigatoErrorCodes.NotRunning, error.Code);
    }

    [Fact]
    public async Task CommandsWithAState_RunWithIt_InOrderWithOtherPosts()
    {
        using var loop = new ActorLoop("Test", _ => { });
        await loop.StartAsync();
        var order = new List<string>();
        Action<object?> add = state => order.Add((string)state!);

        loop.Post(add, "posted with a state");
        loop.Post(() => order.Add("posted"));
        loop.RunOrPost(add, "run or posted from another thread");
        await loop.InvokeAsync(() => loop.RunOrPost(add, "run at once on the loop"));

        Assert.Equal(["posted with a state", "posted", "run or posted from another thread", "run at once on the loop"], order);
    }
}
