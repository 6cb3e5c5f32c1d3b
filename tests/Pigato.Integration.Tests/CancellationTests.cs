using System.Text.Json;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>
/// A caller that stops caring reaches the worker: a cancelled token, a reply stream left early or <c>CancelRequest</c>
/// trips the handler's token within a round trip, long before the request's liveness (15 s here) could.
/// </summary>
public class CancellationTests
{
    /// <summary>Far below the 15 s after which the request would go inactive by itself (6 worker heartbeat periods of 2.5 s).</summary>
    private static readonly TimeSpan WellBeforeLiveness = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A worker whose handler waits until its request goes inactive, and says so (also when the cancel was read before
    /// the handler started: the loop reads a wake-up's messages before it starts their handlers).
    /// </summary>
    private static async Task<TaskCompletionSource<string>> StartPatientWorkerAsync(PigatoHarness harness)
    {
        var stopped = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.StartWorkerAsync("slow", async (data, reply, _) =>
        {
            try
            {
                await reply.WriteAsync("started");
                await Task.Delay(Timeout.InfiniteTimeSpan, reply.CancellationToken);
            }
            finally
            {
                stopped.TrySetResult(data.GetString()!);
            }
        });
        return stopped;
    }

    [Fact]
    public async Task CancelledToken_TripsTheHandlersToken_AndTheBrokerForgetsTheRequest()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var stopped = await StartPatientWorkerAsync(harness);
        var client = await harness.StartClientAsync();
        using var cancel = new CancellationTokenSource();

        var request = client.RequestAsync<string>("slow", "awaited", cancellationToken: cancel.Token).AsTask();
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).InFlightRequests == 1, "the worker holds the request");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        Assert.Equal("awaited", await stopped.Task.WithinAsync("the handler's token to trip", WellBeforeLiveness));
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).TrackedRequests == 0, "the broker forgets the request once the worker ended it");
        Assert.Equal(1, (await harness.Broker.GetSnapshotAsync()).Counters.Cancelled);
    }

    [Fact]
    public async Task StreamLeftEarly_TripsTheHandlersToken()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var stopped = await StartPatientWorkerAsync(harness);
        var client = await harness.StartClientAsync();

        await foreach (var reply in client.RequestStreamAsync<string>("slow", "streamed", cancellationToken: Bounded.Token()))
        {
            Assert.Equal("started", reply.Data);
            break;
        }

        Assert.Equal("streamed", await stopped.Task.WithinAsync("the handler's token to trip", WellBeforeLiveness));
    }

    [Fact]
    public async Task CancelRequest_EndsACallbackRequestWithErrCancelled_AndTripsTheHandlersToken()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var stopped = await StartPatientWorkerAsync(harness);
        var client = await harness.StartClientAsync();
        var final = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var rid = client.Request<string>("slow", "called back", (_, _) => started.TrySetResult(), (error, _) => final.TrySetResult(error?.Code));
        await started.Task.WithinAsync("the partial reply");

        Assert.True(client.CancelRequest(rid));
        Assert.Equal(PigatoErrorCodes.Cancelled, await final.Task.WithinAsync("the final callback"));
        Assert.Equal("called back", await stopped.Task.WithinAsync("the handler's token to trip", WellBeforeLiveness));
        Assert.False(client.CancelRequest(rid));
    }

    [Fact]
    public async Task ThreeHops_CancellingTheFirstCallStopsTheLast_WhenEachHandlerPassesItsToken()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var stopped = await StartPatientWorkerAsync(harness);
        var middleClient = await harness.StartClientAsync();
        var middleStopped = new TaskCompletionSource<Type>(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.StartWorkerAsync("middle", async (data, reply, _) =>
        {
            try
            {
                // The documented way to carry a cancellation on: the handler's token to its own calls.
                await middleClient.RequestAsync<string>("slow", "third hop", cancellationToken: reply.CancellationToken);
            }
            catch (OperationCanceledException e)
            {
                middleStopped.TrySetResult(e.GetType());
                throw;
            }
        });
        var client = await harness.StartClientAsync();
        using var cancel = new CancellationTokenSource();

        var request = client.RequestAsync<string>("middle", "first hop", cancellationToken: cancel.Token).AsTask();
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).InFlightRequests == 2, "both hops are at their workers");
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        Assert.NotNull(await middleStopped.Task.WithinAsync("the middle hop's call to stop", WellBeforeLiveness));
        Assert.Equal("third hop", await stopped.Task.WithinAsync("the last hop's token to trip", WellBeforeLiveness));
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).TrackedRequests == 0, "the broker forgets both hops");
    }

    [Fact]
    public async Task Queued_IsDroppedByTheBroker_AndNeverReachesAWorkerThatComesLater()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var client = await harness.StartClientAsync();
        using var cancel = new CancellationTokenSource();

        var request = client.RequestAsync<string>("later", "queued", cancellationToken: cancel.Token).AsTask();
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).QueuedRequests == 1, "the broker queues the request");
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).TrackedRequests == 0, "the broker drops the cancelled request");

        var handled = 0;
        await harness.StartWorkerAsync("later", (data, reply, _) =>
        {
            Interlocked.Increment(ref handled);
            return reply.EndAsync(data);
        });
        Assert.Equal("after", await client.RequestAsync<string>("later", "after", cancellationToken: Bounded.Token()));
        Assert.Equal(1, handled);
    }
}
