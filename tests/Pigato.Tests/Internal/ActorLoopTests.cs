using Pigato.Internal;

namespace Pigato.Tests.Internal;

/// <summary>
/// The actor loop, waiting with its own <see cref="SocketPoller"/> or with NetMQ's poller: <see cref="ActorLoop.RunOrPost(Action)"/>
/// at once on the loop's own thread, posted from any other; commands with a state; timers; plain sockets.
/// </summary>
public class ActorLoopTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunOrPost_OnTheLoop_RunsAtOnce_BeforeWhatWasPostedEarlier(bool withNetMq)
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq);
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunOrPost_FromAnotherThread_RunsOnTheLoop(bool withNetMq)
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq);
        await loop.StartAsync();
        var onLoop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);

        Assert.False(loop.IsCurrent);
        loop.RunOrPost(() => onLoop.TrySetResult(loop.IsCurrent));

        Assert.True(await onLoop.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunOrPost_OnTheLoop_AFailureIsReportedNotThrown(bool withNetMq)
    {
        var reported = new List<Exception>();
        using var loop = new ActorLoop("Test", reported.Add, withNetMq);
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

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RunOrPost_AfterDispose_Throws(bool withNetMq)
    {
        var loop = new ActorLoop("Test", _ => { }, withNetMq);
        await loop.StartAsync();
        loop.Dispose();

        var error = Assert.Throws<PigatoException>(() => loop.RunOrPost(() => { }));

        Assert.Equal(PigatoErrorCodes.NotRunning, error.Code);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CommandsWithAState_RunWithIt_InOrderWithOtherPosts(bool withNetMq)
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq);
        await loop.StartAsync();
        var order = new List<string>();
        Action<object?> add = state => order.Add((string)state!);

        loop.Post(add, "posted with a state");
        loop.Post(() => order.Add("posted"));
        loop.RunOrPost(add, "run or posted from another thread");
        await loop.InvokeAsync(() => loop.RunOrPost(add, "run at once on the loop"));

        Assert.Equal(["posted with a state", "posted", "run or posted from another thread", "run at once on the loop"], order);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Timers_RunWhileEnabled_AndADisabledOneNoLonger_CountedByAnotherTimer(bool withNetMq)
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq);
        var onceRuns = 0;
        var clockRuns = 0;
        var clockReached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        LoopTimer? once = null;
        once = loop.Timer(TimeSpan.FromMilliseconds(1), () =>
        {
            onceRuns++;
            once!.Enable = false;
        });
        loop.Timer(TimeSpan.FromMilliseconds(1), () =>
        {
            if (++clockRuns == 20)
            {
                clockReached.TrySetResult();
            }
        });
        await loop.StartAsync();

        // Twenty runs of the other timer: at least 20 ms during which the disabled one, due every millisecond, stayed off.
        await clockReached.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(1, await loop.InvokeAsync(() => onceRuns));

        var again = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await loop.InvokeAsync(() =>
        {
            once!.Interval = TimeSpan.FromMilliseconds(2);
            once.Enable = true;
        });
        loop.Post(() => loop.Timer(TimeSpan.FromMilliseconds(1), () =>
        {
            if (onceRuns == 2)
            {
                again.TrySetResult();
            }
        }));
        await again.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ADisposedTimer_NeverRunsAgain_NotEvenEnabled_AndLeavesTheLoop(bool withNetMq)
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq);
        var runs = 0;
        var ran = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disposed = loop.Timer(TimeSpan.FromMilliseconds(1), () =>
        {
            runs++;
            ran.TrySetResult();
        });
        var clockRuns = 0;
        loop.Timer(TimeSpan.FromMilliseconds(1), () => clockRuns++);
        await loop.StartAsync();
        await ran.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var (runsWhenDisposed, clockWhenDisposed) = await loop.InvokeAsync(() =>
        {
            disposed.Dispose();
            disposed.Enable = true;
            return (runs, clockRuns);
        });
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (await loop.InvokeAsync(() => loop.TimerCount) != 1 || await loop.InvokeAsync(() => clockRuns) < clockWhenDisposed + 20)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "Timed out waiting for the loop to drop the disposed timer");
            await Task.Delay(1);
        }

        // Twenty runs of the other timer later: the disposed one, due every millisecond, never ran again.
        Assert.Equal(runsWhenDisposed, await loop.InvokeAsync(() => runs));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task APlainSocket_ItsCallbackRunsWhenItHasBytes_UntilRemoved(bool withNetMq)
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq);
        await loop.StartAsync();
        using var receiver = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        receiver.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        using var sender = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Dgram, System.Net.Sockets.ProtocolType.Udp);
        var received = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        await loop.InvokeAsync(() => loop.Add(receiver, () =>
        {
            receiver.Receive(new byte[16]);
            loop.Remove(receiver);
            received.TrySetResult(loop.IsCurrent);
        }));

        sender.SendTo([1], receiver.LocalEndPoint!);

        Assert.True(await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void ALoopWithoutNetMq_RefusesANetMqSocket()
    {
        using var loop = new ActorLoop("Test", _ => { }, withNetMq: false);
        using var socket = new NetMQ.Sockets.DealerSocket();

        Assert.Throws<InvalidOperationException>(() => loop.Add(socket));
    }

    [Fact]
    public async Task Dispose_FromOneOfItsOwnCallbacks_EndsTheLoopWithoutWaitingForItself()
    {
        // The loop of its own only: NetMQ's poller refuses to be disposed from its thread.
        var loop = new ActorLoop("Test", _ => { }, withNetMq: false);
        await loop.StartAsync();

        await loop.InvokeAsync(loop.Dispose);

        Assert.Equal(PigatoErrorCodes.NotRunning, Assert.Throws<PigatoException>(() => loop.Post(() => { })).Code);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task APostFromAnotherThread_AlwaysRuns_WhileTheLoopGoesToSleepOrRuns(bool withNetMq)
    {
        // No timer and no socket but the wake-up: a post the loop missed as it went to sleep would never run.
        using var loop = new ActorLoop("Test", _ => { }, withNetMq);
        await loop.StartAsync();
        var ran = 0;

        for (var i = 0; i < 2_000; i++)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            loop.Post(() =>
            {
                ran++;
                done.SetResult();
            });
            if (i % 2 == 0)
            {
                // Every other one posts a second from the loop itself, so that the next post finds the loop running.
                loop.Post(() => loop.Post(() => { }));
            }

            await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }

        Assert.Equal(2_000, await loop.InvokeAsync(() => ran));
    }
}
