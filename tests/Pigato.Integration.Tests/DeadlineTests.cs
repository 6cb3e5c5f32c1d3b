using Microsoft.Extensions.Time.Testing;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>
/// A request's deadline through real sockets, on one fake clock shared by the broker, the worker and the client (their
/// <c>TimeProvider</c>): the worker sees the exact deadline and its token trips when the clock reaches it; the caller
/// gets C_TIMEOUT then; a call made from a handler inherits what remains, hop after hop. Nothing waits on the wall
/// clock: the test moves the fake one once the request is at its last worker.
/// </summary>
public class DeadlineTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    private Task<PigatoHarness> StartAsync() => PigatoHarness.StartAsync(new BrokerOptions { TimeProvider = _clock });

    private WorkerOptions OnTheClock(WorkerOptions options) => options with { TimeProvider = _clock };

    private ClientOptions OnTheClock(ClientOptions options) => options with { TimeProvider = _clock };

    /// <summary>A worker that tells when its handler started and what deadline it saw, then waits until its token trips.</summary>
    private async Task<(TaskCompletionSource<DateTimeOffset?> Started, TaskCompletionSource Tripped)> StartDeadlineWatcherAsync(PigatoHarness harness, string service)
    {
        var started = new TaskCompletionSource<DateTimeOffset?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var tripped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.StartWorkerAsync(service, async (_, reply, _) =>
        {
            var token = reply.CancellationToken;
            started.TrySetResult(reply.Deadline);
            await Task.Delay(Timeout.InfiniteTimeSpan, token).ContinueWith(_ => { }, TaskScheduler.Default);
            tripped.TrySetResult();
        }, OnTheClock);
        return (started, tripped);
    }

    [Fact]
    public async Task TheWorkerSeesTheDeadline_ItsTokenTripsThen_AndTheCallerGetsCTimeout()
    {
        await using var harness = await StartAsync();
        var (started, tripped) = await StartDeadlineWatcherAsync(harness, "slow");
        var client = await harness.StartClientAsync(OnTheClock);
        var start = _clock.GetUtcNow();

        var call = client.RequestAsync<string>("slow", "x", new RequestOptions { Deadline = TimeSpan.FromMilliseconds(700) }, Bounded.Token()).AsTask();

        Assert.Equal(start + TimeSpan.FromMilliseconds(700), await started.Task.WithinAsync("the handler to start"));
        _clock.Advance(TimeSpan.FromMilliseconds(699));
        Assert.False(tripped.Task.IsCompleted);
        _clock.Advance(TimeSpan.FromMilliseconds(1));
        await tripped.Task.WithinAsync("the handler's token to trip at the deadline");
        var error = await Assert.ThrowsAsync<PigatoTimeoutException>(() => call);
        Assert.Equal(PigatoErrorCodes.Timeout, error.Code);
    }

    [Fact]
    public async Task ACallMadeFromAHandler_GetsNoMoreThanWhatRemains_HopAfterHop()
    {
        await using var harness = await StartAsync();
        var (started, tripped) = await StartDeadlineWatcherAsync(harness, "last");
        var middleClient = await harness.StartClientAsync(OnTheClock);
        var middleStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var middleGoesOn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.StartWorkerAsync("middle", async (data, reply, _) =>
        {
            // No deadline of its own, and the client's default timeout (60 s): it inherits what its caller's budget has left.
            middleStarted.TrySetResult();
            await middleGoesOn.Task;
            await reply.EndAsync(await middleClient.RequestAsync<string>("last", data.GetString()));
        }, OnTheClock);
        var client = await harness.StartClientAsync(OnTheClock);
        var start = _clock.GetUtcNow();

        var call = client.RequestAsync<string>("middle", "x", new RequestOptions { Deadline = TimeSpan.FromSeconds(1) }, Bounded.Token()).AsTask();
        await middleStarted.Task.WithinAsync("the middle hop to start");
        _clock.Advance(TimeSpan.FromMilliseconds(300));
        middleGoesOn.SetResult();

        // 700 ms were left when the middle hop called: the last hop's deadline is the first caller's.
        Assert.Equal(start + TimeSpan.FromSeconds(1), await started.Task.WithinAsync("the last hop to start"));
        _clock.Advance(TimeSpan.FromMilliseconds(700));
        await tripped.Task.WithinAsync("the last hop's token to trip at the inherited deadline");
        await Assert.ThrowsAsync<PigatoTimeoutException>(() => call);
    }

    [Fact]
    public async Task WithoutADeadline_TheWorkerSeesNone()
    {
        await using var harness = await StartAsync();
        await harness.StartWorkerAsync("plain", (_, reply, _) => reply.EndAsync(reply.Deadline is null ? "none" : "some"), OnTheClock);
        var client = await harness.StartClientAsync(OnTheClock);

        Assert.Equal("none", await client.RequestAsync<string>("plain", null, cancellationToken: Bounded.Token()));
    }
}
