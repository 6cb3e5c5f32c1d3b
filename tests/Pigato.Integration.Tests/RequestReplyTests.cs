using System.Text.Json;
using Pigato.TestUtilities;
using Pigato.Protocol;

namespace Pigato.Integration.Tests;

/// <summary>Requests through a real broker to real workers, consumed every way the client offers.</summary>
public class RequestReplyTests
{
    private static ValueTask Echo(JsonElement data, WorkerReply reply, JsonElement options) => reply.EndAsync(data);

    [Fact]
    public async Task Echo_StringJsonObjectAndNull_RoundTrip()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("echo", Echo);
        var client = await harness.StartClientAsync();

        Assert.Equal("hello", await client.RequestAsync<string>("echo", "hello", cancellationToken: Bounded.Token()));
        var json = await client.RequestAsync<JsonElement>("echo", new { ticker = "AAPL", days = new[] { 1, 2 } }, cancellationToken: Bounded.Token());
        Assert.Equal("{\"ticker\":\"AAPL\",\"days\":[1,2]}", json.GetRawText());
        Assert.Null(await client.RequestAsync<string>("echo", null, cancellationToken: Bounded.Token()));
        Assert.Equal(0, (await harness.Broker.GetStatsAsync()).TrackedRequests);
    }

    [Fact]
    public async Task RequestReplyAsync_GivesTheTypedDataAndTheWorkersReplyOptions()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync(Worker.Create<int>(harness.WorkerOptions("paged"), (page, reply, _) =>
        {
            reply.ReplyOptions = new() { ["next"] = page + 1 };
            return reply.EndAsync(new[] { page * 10, page * 10 + 1 });
        }));
        var client = await harness.StartClientAsync();

        var reply = await client.RequestReplyAsync<int[]>("paged", 3, cancellationToken: Bounded.Token());

        Assert.Equal([30, 31], reply.Data!);
        Assert.True(reply.IsFinal);
        Assert.Equal(4, reply.Options.GetProperty("next").GetInt32());
    }

    private static async Task<Worker> StartFivePartialsWorkerAsync(PigatoHarness harness) =>
        await harness.StartWorkerAsync(Worker.Create<int>(harness.WorkerOptions("count"), async (count, reply, _) =>
        {
            for (var i = 1; i <= count; i++)
            {
                await reply.WriteAsync($"p{i}");
            }

            await reply.EndAsync("final");
        }));

    [Fact]
    public async Task FivePartialsThenFinal_AsStream()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await StartFivePartialsWorkerAsync(harness);
        var client = await harness.StartClientAsync();

        var replies = new List<PigatoReply<string>>();
        await foreach (var reply in client.RequestStreamAsync<string>("count", 5, cancellationToken: Bounded.Token()))
        {
            replies.Add(reply);
        }

        Assert.Equal(["p1", "p2", "p3", "p4", "p5", "final"], replies.Select(r => r.Data));
        Assert.Equal([false, false, false, false, false, true], replies.Select(r => r.IsFinal));
    }

    [Fact]
    public async Task FivePartialsThenFinal_AsCallbacks()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await StartFivePartialsWorkerAsync(harness);
        var client = await harness.StartClientAsync();
        var partials = new List<string?>();
        var final = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);

        client.Request<string>("count", 5, (error, data) => partials.Add(error is null ? data : "error"), (error, data) => final.TrySetResult(error is null ? data : error.Code));

        Assert.Equal("final", await final.Task.WithinAsync("the final callback"));
        Assert.Equal(["p1", "p2", "p3", "p4", "p5"], partials);
    }

    [Fact]
    public async Task FivePartialsThenFinal_Awaited_GivesFinal()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await StartFivePartialsWorkerAsync(harness);
        var client = await harness.StartClientAsync();

        Assert.Equal("final", await client.RequestAsync<string>("count", 5, cancellationToken: Bounded.Token()));
    }

    [Fact]
    public async Task ErrorReply_AsExceptionStreamAndCallback()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("fail", (_, reply, _) => reply.ErrorAsync(new { code = "E42", reason = "no" }));
        var client = await harness.StartClientAsync();

        var error = await Assert.ThrowsAsync<PigatoReplyException>(() => client.RequestAsync<string>("fail", null, cancellationToken: Bounded.Token()).AsTask());
        Assert.Equal("E42", error.Error.GetProperty("code").GetString());

        await Assert.ThrowsAsync<PigatoReplyException>(async () =>
        {
            await foreach (var _ in client.RequestStreamAsync<string>("fail", null, cancellationToken: Bounded.Token()))
            {
            }
        });

        var callbackError = new TaskCompletionSource<PigatoException?>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Request<string>("fail", null, null, (e, _) => callbackError.TrySetResult(e));
        var received = Assert.IsType<PigatoReplyException>(await callbackError.Task.WithinAsync("the error callback"));
        Assert.Equal("no", received.Error.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task HandlerException_BecomesSafeErrorReply()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("boom", (_, _, _) => throw new InvalidOperationException("secret detail"));
        var client = await harness.StartClientAsync();

        var error = await Assert.ThrowsAsync<PigatoReplyException>(() => client.RequestAsync<string>("boom", null, cancellationToken: Bounded.Token()).AsTask());

        Assert.Equal(PigatoErrorCodes.HandlerFailed, error.Code);
        Assert.DoesNotContain("secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAfterEnd_IsRefusedWithClearError()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var refusal = new TaskCompletionSource<Exception>(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.StartWorkerAsync("once", async (_, reply, _) =>
        {
            await reply.EndAsync("done");
            refusal.TrySetResult(await Assert.ThrowsAsync<InvalidOperationException>(() => reply.WriteAsync("late").AsTask()));
        });
        var client = await harness.StartClientAsync();

        Assert.Equal("done", await client.RequestAsync<string>("once", null, cancellationToken: Bounded.Token()));
        Assert.Contains("already ended", (await refusal.Task.WithinAsync("the refused write")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WorkerWithConcurrency20_HoldsTwentyRequestsAtOnce()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var running = 0;
        var allIn = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await harness.StartWorkerAsync("wide", async (_, reply, _) =>
        {
            if (Interlocked.Increment(ref running) == 20)
            {
                allIn.TrySetResult();
            }

            await allIn.Task;
            await reply.EndAsync(Volatile.Read(ref running));
        }, o => o with { Concurrency = 20 });
        var client = await harness.StartClientAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.RequestAsync<int>("wide", null, cancellationToken: Bounded.Token()).AsTask()));

        Assert.All(results, r => Assert.Equal(20, r));
    }

    [Fact]
    public async Task WorkerWithConcurrency1_SerialisesRequests()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var running = 0;
        var maxRunning = 0;
        await harness.StartWorkerAsync("narrow", async (_, reply, _) =>
        {
            InterlockedMax(ref maxRunning, Interlocked.Increment(ref running));
            await gate.Task;
            Interlocked.Decrement(ref running);
            await reply.EndAsync();
        }, o => o with { Concurrency = 1 });
        var client = await harness.StartClientAsync();

        var calls = Enumerable.Range(0, 10).Select(_ => client.RequestAsync<string>("narrow", null, cancellationToken: Bounded.Token()).AsTask()).ToArray();
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()) is { InFlightRequests: 1, QueuedRequests: 9 }, "one request runs and nine wait");
        gate.SetResult();
        await Task.WhenAll(calls);

        Assert.Equal(1, maxRunning);
    }

    [Fact]
    public async Task NoWorker_RequestTimesOutWithCTimeout()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var client = await harness.StartClientAsync();

        var error = await Assert.ThrowsAsync<PigatoTimeoutException>(() =>
            client.RequestAsync<string>("nobody", null, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(200) }).AsTask().WithinAsync("the timeout"));

        Assert.Equal(PigatoErrorCodes.Timeout, error.Code);
        Assert.Equal(0, client.PendingCount);
    }

    [Fact]
    public async Task RequestSentFromATimedOutRequestsCallback_TimesOutToo()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var client = await harness.StartClientAsync();
        var quick = new RequestOptions { Timeout = TimeSpan.FromMilliseconds(200) };
        var second = new TaskCompletionSource<PigatoException?>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The callback runs on the client's thread, inside its timeout sweep: the request it sends leaves from there.
        client.Request<string>("nobody", null, null, (first, _) =>
            client.Request<string>("nobody", null, null, (error, _) => second.TrySetResult(error), quick), quick);

        var error = await second.Task.WithinAsync("the second request's timeout");
        Assert.Equal(PigatoErrorCodes.Timeout, error?.Code);
    }

    [Fact]
    public async Task WorkerStartedWhileRequestWaits_GetsIt()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var client = await harness.StartClientAsync();
        var call = client.RequestAsync<string>("late", "x", cancellationToken: Bounded.Token()).AsTask();
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).QueuedRequests == 1, "the request is queued");

        await harness.StartWorkerAsync("late", Echo);

        Assert.Equal("x", await call.WithinAsync("the late worker's reply"));
    }

    [Fact]
    public async Task Cancellation_FailsTheCallAndFreesIt()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var client = await harness.StartClientAsync();
        using var cancel = new CancellationTokenSource();
        var call = client.RequestAsync<string>("nobody", null, cancellationToken: cancel.Token).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WithinAsync("the cancelled call"));
        Assert.Equal(0, client.PendingCount);
    }

    [Fact]
    public async Task RequestOptions_AndUserFields_ReachTheWorker()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("opts", (_, reply, options) => reply.EndAsync(options));
        var client = await harness.StartClientAsync();

        var seen = await client.RequestAsync<JsonElement>("opts", null, new RequestOptions
        {
            Timeout = TimeSpan.FromSeconds(9),
            Persist = true,
            NoCache = true,
            Fields = new Dictionary<string, object?> { ["tenant"] = "acme" },
        }, Bounded.Token());

        Assert.Equal(9000, seen.GetProperty("timeout").GetInt32());
        Assert.Equal(0, seen.GetProperty("retry").GetInt32());
        Assert.True(seen.GetProperty("persist").GetBoolean());
        Assert.True(seen.GetProperty("nocache").GetBoolean());
        Assert.Equal("acme", seen.GetProperty("tenant").GetString());
    }

    [Fact]
    public async Task StreamAndEnumerableCopy_BecomePartials()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("copy", async (_, reply, _) =>
        {
            await reply.WriteAllAsync(Numbers());
            using var text = new MemoryStream("héllo"u8.ToArray());
            await reply.CopyFromAsync(text, bufferSize: 2);
        });
        var client = await harness.StartClientAsync();

        var partials = new List<JsonElement>();
        await foreach (var reply in client.RequestStreamAsync<JsonElement>("copy", null, cancellationToken: Bounded.Token()))
        {
            if (!reply.IsFinal)
            {
                partials.Add(reply.Data);
            }
        }

        Assert.Equal([1, 2, 3], partials.Take(3).Select(p => p.GetInt32()));
        Assert.Equal("héllo", string.Concat(partials.Skip(3).Select(p => p.GetString())));

        static async IAsyncEnumerable<int> Numbers()
        {
            for (var i = 1; i <= 3; i++)
            {
                await Task.Yield();
                yield return i;
            }
        }
    }

    [Fact]
    public async Task ManyConcurrentRequests_FromManyThreads_AllAnswered()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("echo", Echo, o => o with { Concurrency = -1 });
        var client = await harness.StartClientAsync();

        var results = await Task.WhenAll(Enumerable.Range(0, 2000).Select(i => Task.Run(() => client.RequestAsync<int>("echo", i, cancellationToken: Bounded.Token()).AsTask())));

        Assert.Equal(Enumerable.Range(0, 2000), results);
        Assert.Equal(0, (await harness.Broker.GetStatsAsync()).TrackedRequests);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int current;
        while ((current = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, current) != current)
        {
        }
    }
}
