using System.Diagnostics;
using Pigato.Integration.Tests.Infrastructure;

namespace Pigato.Integration.Tests;

/// <summary>
/// A request's deadline through real sockets: the worker sees it and its token trips then; a call made from a handler
/// inherits what remains, hop after hop. Every bound here is far below the 15 s after which a request goes inactive by itself.
/// </summary>
public class DeadlineTests
{
    private static readonly TimeSpan WellBeforeLiveness = TimeSpan.FromSeconds(5);

    /// <summary>A worker that notes its request's deadline, then waits until its token trips.</summary>
    private static async Task<TaskCompletionSource<DateTimeOffset?>> StartDeadlineWatcherAsync(PigatoHarness harness, string service)
    {
        var seen = new TaskCompletionSource<DateTimeOffset?>(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.StartWorkerAsync(service, async (_, reply, _) =>
        {
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, reply.CancellationToken);
            }
            finally
            {
                seen.TrySetResult(reply.Deadline);
            }
        });
        return seen;
    }

    /// <summary>The watcher's token tripped, and the deadline it saw lies within <paramref name="budget"/> (plus 200 ms of travel) of <paramref name="start"/>.</summary>
    private static async Task AssertTrippedAtTheDeadlineAsync(TaskCompletionSource<DateTimeOffset?> seen, DateTimeOffset start, TimeSpan budget, string what)
    {
        var deadline = await seen.Task.WithinAsync(what, WellBeforeLiveness);
        Assert.NotNull(deadline);
        Assert.InRange(deadline.Value, start, start + budget + TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task TheWorkerSeesTheDeadline_ItsTokenTripsThen_AndTheCallerGetsCTimeout()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var seen = await StartDeadlineWatcherAsync(harness, "slow");
        var client = await harness.StartClientAsync();
        var start = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<PigatoTimeoutException>(() => client.RequestAsync<string>("slow", "x", new RequestOptions { Deadline = TimeSpan.FromMilliseconds(700) }, Bounded.Token()).AsTask());

        Assert.Equal(PigatoErrorCodes.Timeout, error.Code);
        Assert.InRange(clock.Elapsed, TimeSpan.FromMilliseconds(600), WellBeforeLiveness);
        await AssertTrippedAtTheDeadlineAsync(seen, start, TimeSpan.FromMilliseconds(700), "the handler's token to trip at the deadline");
    }

    [Fact]
    public async Task ACallMadeFromAHandler_GetsNoMoreThanWhatRemains_HopAfterHop()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var seen = await StartDeadlineWatcherAsync(harness, "last");
        var middleClient = await harness.StartClientAsync();
        await harness.StartWorkerAsync("middle", async (data, reply, _) =>
        {
            // No deadline of its own, and the client's default timeout (60 s): it inherits the caller's budget.
            await reply.EndAsync(await middleClient.RequestAsync<string>("last", data.GetString()));
        });
        var client = await harness.StartClientAsync();
        var start = DateTimeOffset.UtcNow;

        await Assert.ThrowsAsync<PigatoTimeoutException>(() => client.RequestAsync<string>("middle", "x", new RequestOptions { Deadline = TimeSpan.FromSeconds(1) }, Bounded.Token()).AsTask());

        await AssertTrippedAtTheDeadlineAsync(seen, start, TimeSpan.FromSeconds(1), "the last hop's token to trip at the inherited deadline");
    }

    [Fact]
    public async Task WithoutADeadline_TheWorkerSeesNone()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("plain", (_, reply, _) => reply.EndAsync(reply.Deadline is null ? "none" : "some"));
        var client = await harness.StartClientAsync();

        Assert.Equal("none", await client.RequestAsync<string>("plain", null, cancellationToken: Bounded.Token()));
    }
}
