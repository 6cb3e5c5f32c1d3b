using System.Collections.Concurrent;
using Pigato.TestUtilities;
using Pigato.Protocol;

namespace Pigato.Integration.Tests;

/// <summary>How the broker picks workers: load and rand, reject, retry, expiry and workerId.</summary>
public class RoutingTests
{
    // Fast enough to purge a killed worker within a second, slow enough for a loaded two-core CI machine.
    private static readonly BrokerOptions FastBroker = new() { HeartbeatInterval = TimeSpan.FromMilliseconds(250) };

    /// <summary>A worker that answers with its own worker id.</summary>
    internal static async Task<Worker> StartSelfNamingAsync(PigatoHarness harness, string service, int concurrency = 100)
    {
        Worker? self = null;
        self = new Worker(harness.WorkerOptions(service) with { Concurrency = concurrency }, (_, reply, _) => reply.EndAsync(self!.Id));
        return await harness.StartWorkerAsync(self);
    }

    [Fact]
    public async Task RandMode_ServesEveryWorker()
    {
        await using var harness = await PigatoHarness.StartAsync(new BrokerOptions { DispatchMode = DispatchMode.Rand });
        var workers = new List<Worker>();
        for (var i = 0; i < 4; i++)
        {
            workers.Add(await StartSelfNamingAsync(harness, "job"));
        }

        var client = await harness.StartClientAsync();
        var answers = new HashSet<string?>();
        for (var i = 0; i < 200 && answers.Count < 4; i++)
        {
            answers.Add(await client.RequestAsync<string>("job", null, cancellationToken: Bounded.Token()));
        }

        Assert.Equal(workers.Select(w => w.Id).ToHashSet(), answers);
    }

    [Fact]
    public async Task Reject_AnotherWorkerAnswers_AndTheRejecterNeverGetsItBack()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var rejectedRids = new ConcurrentBag<string>();
        await harness.StartWorkerAsync("job", (_, reply, _) =>
        {
            rejectedRids.Add(reply.RequestId);
            return reply.RejectAsync("busy");
        });
        var answering = await StartSelfNamingAsync(harness, "job");
        var client = await harness.StartClientAsync();

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(answering.Id, await client.RequestAsync<string>("job", null, cancellationToken: Bounded.Token()));
        }

        // Ties go to the worker that served fewer, so the rejecter is offered each request once, never twice.
        Assert.NotEmpty(rejectedRids);
        Assert.Equal(rejectedRids.Count, rejectedRids.Distinct().Count());
    }

    [Fact]
    public async Task RejectedByAll_WaitsForANewWorker()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var rejections = 0;
        for (var i = 0; i < 2; i++)
        {
            await harness.StartWorkerAsync("job", (_, reply, _) =>
            {
                Interlocked.Increment(ref rejections);
                return reply.RejectAsync();
            });
        }

        var client = await harness.StartClientAsync();
        var call = client.RequestAsync<string>("job", null, cancellationToken: Bounded.Token()).AsTask();
        await Bounded.UntilAsync(() => Volatile.Read(ref rejections) == 2, "both workers rejected the request");
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).QueuedRequests == 1, "the broker queues the request again");

        var late = await StartSelfNamingAsync(harness, "job");

        Assert.Equal(late.Id, await call.WithinAsync("the new worker's answer"));
        Assert.Equal(2, Volatile.Read(ref rejections));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WorkerDiesMidRequest_WithRetry_AnotherWorkerAnswers(bool sendsDisconnect)
    {
        await using var harness = await PigatoHarness.StartAsync(FastBroker);
        var client = await harness.StartClientAsync();

        // The raw worker sends no heartbeat: register it only now, so that the broker cannot purge it before the request.
        var dying = RawSocket.Dealer(harness.Endpoint, "dying");
        dying.Send("W", "1", "job", "{\"concurrency\":1}");
        dying.ReceiveMatching(0, "W", "1");
        var call = client.RequestAsync<string>("job", null, new RequestOptions { Retry = true }, Bounded.Token()).AsTask();
        dying.ReceiveMatching(0, "W", "2");
        var survivor = await StartSelfNamingAsync(harness, "job");

        if (sendsDisconnect)
        {
            dying.Send("W", "5");
        }

        dying.Dispose();

        var answer = await call.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : t.Exception!.InnerException!.Message);
        Assert.True(answer == survivor.Id, $"{answer} (survivor {survivor.Id}); broker log:\n{string.Join("\n", harness.BrokerLog.Lines)}");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task WorkerDiesMidRequest_WithoutRetry_ClientGetsWorkerLost(bool sendsDisconnect)
    {
        await using var harness = await PigatoHarness.StartAsync(FastBroker);
        var client = await harness.StartClientAsync();
        var dying = RawSocket.Dealer(harness.Endpoint, "dying");
        dying.Send("W", "1", "job");
        dying.ReceiveMatching(0, "W", "1");
        var call = client.RequestAsync<string>("job", null, cancellationToken: Bounded.Token()).AsTask();
        dying.ReceiveMatching(0, "W", "2");

        if (sendsDisconnect)
        {
            dying.Send("W", "5");
        }

        dying.Dispose();

        var error = await Assert.ThrowsAnyAsync<PigatoException>(() => call.WithinAsync("the lost-worker error", TimeSpan.FromSeconds(5)));
        Assert.True(error.Code == PigatoErrorCodes.WorkerLost, $"{error.Code}: {error.Message}; broker log:\n{string.Join("\n", harness.BrokerLog.Lines)}");
    }

    [Fact]
    public async Task QueuedRequest_ExpiresByItsTimeout_AndIsForgotten()
    {
        await using var harness = await PigatoHarness.StartAsync(FastBroker);
        var client = await harness.StartClientAsync();

        await Assert.ThrowsAsync<PigatoTimeoutException>(() => client.RequestAsync<string>("nobody", null, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(200) }).AsTask().WithinAsync("the timeout"));
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).TrackedRequests == 0, "the broker forgets the expired request");

        var handled = 0;
        await harness.StartWorkerAsync("nobody", (_, reply, _) =>
        {
            Interlocked.Increment(ref handled);
            return reply.EndAsync();
        });

        // Queues are FIFO: had the expired request survived, the worker would see it before this one.
        await client.RequestAsync<string>("nobody", null, cancellationToken: Bounded.Token());
        Assert.Equal(1, Volatile.Read(ref handled));
    }

    [Fact]
    public async Task WorkerId_AmongTenWorkers_EachRequestAnsweredByTheNamedWorker()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var workers = new List<Worker>();
        for (var i = 0; i < 10; i++)
        {
            workers.Add(await StartSelfNamingAsync(harness, "svc"));
        }

        var client = await harness.StartClientAsync();
        var targets = Enumerable.Range(0, 50).Select(i => workers[i % 10].Id!).ToArray();

        var answers = await Task.WhenAll(targets.Select(id => client.RequestAsync<string>("svc", null, new RequestOptions { WorkerId = id }, Bounded.Token()).AsTask()));

        Assert.Equal(targets, answers);
    }

    [Fact]
    public async Task WorkerId_WaitingForABusyWorker_DoesNotBlockOtherRequests()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Worker? busy = null;
        busy = new Worker(harness.WorkerOptions("svc") with { Concurrency = 1 }, async (_, reply, _) =>
        {
            await gate.Task;
            await reply.EndAsync(busy!.Id);
        });
        await harness.StartWorkerAsync(busy);
        var client = await harness.StartClientAsync();
        var first = client.RequestAsync<string>("svc", null, new RequestOptions { WorkerId = busy.Id }, Bounded.Token()).AsTask();
        var targeted = client.RequestAsync<string>("svc", null, new RequestOptions { WorkerId = busy.Id }, Bounded.Token()).AsTask();
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).QueuedRequests == 1, "the second targeted request waits");
        var other = await StartSelfNamingAsync(harness, "svc");

        Assert.Equal(other.Id, await client.RequestAsync<string>("svc", null, cancellationToken: Bounded.Token()));
        Assert.False(targeted.IsCompleted);

        gate.SetResult();
        Assert.Equal(new[] { busy.Id, busy.Id }, await Task.WhenAll(first, targeted).WithinAsync("the targeted requests"));
    }

    [Fact]
    public async Task EveryEndingPath_LeavesNothingTrackedInTheBroker()
    {
        await using var harness = await PigatoHarness.StartAsync(FastBroker);
        await harness.StartWorkerAsync("ok", (d, r, _) => r.EndAsync(d));
        await harness.StartWorkerAsync("err", (_, r, _) => r.ErrorAsync("no"));
        await harness.StartWorkerAsync("partial", async (_, r, _) =>
        {
            await r.WriteAsync(1);
            await r.EndAsync(2);
        });
        var rejecter = await harness.StartWorkerAsync("rej", (_, r, _) => r.RejectAsync());
        await StartSelfNamingAsync(harness, "rej");
        var client = await harness.StartClientAsync();

        await Task.WhenAll(Enumerable.Range(0, 30).Select(async i =>
        {
            try
            {
                await client.RequestAsync<object>(new[] { "ok", "err", "partial", "rej", "none" }[i % 5], i, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(300) });
            }
            catch (PigatoException)
            {
                // error replies and timeouts are expected endings here
            }
        }));

        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()) is { TrackedRequests: 0, QueuedRequests: 0, InFlightRequests: 0 }, "the broker holds no request");
        Assert.Equal(0, client.PendingCount);
    }
}
