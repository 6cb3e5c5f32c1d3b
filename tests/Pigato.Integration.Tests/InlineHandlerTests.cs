using System.Text.Json;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>
/// Where user code runs. By default handlers start, and awaiting callers continue, on the worker's or client's own thread
/// after the messages of its wake-up, and code that holds that thread loses it (the loop moves to a new thread);
/// <see cref="WorkerOptions.RunHandlersInline"/>: handlers start on the worker's thread as their request is read, and
/// leave it at their first await; <see cref="ClientOptions.RunContinuationsInline"/>: callers continue there likewise.
/// </summary>
public class InlineHandlerTests
{
    /// <summary>The names ActorLoop gives the worker's and the client's threads.</summary>
    private const string WorkerThread = "Pigato.Worker";
    private const string ClientThread = "Pigato.Client";

    private static WorkerOptions Inline(WorkerOptions options) => options with { RunHandlersInline = true };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Handler_StartsOnTheWorkerThread_InlineOrNot(bool inline)
    {
        await using var harness = await PigatoHarness.StartAsync();
        string? thread = null;
        await harness.StartWorkerAsync("where", (data, reply, _) =>
        {
            thread = Thread.CurrentThread.Name;
            return reply.EndAsync(data);
        }, o => o with { RunHandlersInline = inline });
        var client = await harness.StartClientAsync();

        Assert.Equal("here", await client.RequestAsync<string>("where", "here", cancellationToken: Bounded.Token()));
        Assert.Equal(WorkerThread, thread);
    }

    [Fact]
    public async Task DefaultHandler_ThatHoldsTheWorkersThread_LosesIt_AndHoldsUpNoOther()
    {
        // The first handler starts on the worker's thread and blocks it: the worker's loop moves to a new thread (logged),
        // and the next request is answered meanwhile, its handler started on the thread pool.
        await using var harness = await PigatoHarness.StartAsync();
        using var release = new ManualResetEventSlim();
        var log = new ListLogger();
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<string, string?>();
        await harness.StartWorkerAsync("block", (data, reply, _) =>
        {
            var name = data.GetString()!;
            threads[name] = Thread.CurrentThread.Name;
            if (name == "blocks")
            {
                release.Wait(TimeSpan.FromSeconds(30)); // the handler under test blocks its thread
            }

            return reply.EndAsync(name);
        }, o => o with { LoggerFactory = new Microsoft.Extensions.Logging.LoggerFactory([log]) });
        var client = await harness.StartClientAsync();

        var blocked = client.RequestAsync<string>("block", "blocks", cancellationToken: Bounded.Token()).AsTask();
        await Bounded.UntilAsync(() => threads.ContainsKey("blocks"), "the first handler to start");
        Assert.Equal("next", await client.RequestAsync<string>("block", "next", cancellationToken: Bounded.Token()));
        release.Set();
        Assert.Equal("blocks", await blocked.WithinAsync("the blocked handler's reply"));

        Assert.Equal(WorkerThread, threads["blocks"]);
        Assert.NotEqual(WorkerThread, threads["next"]);
        Assert.Contains(log.Lines, line => line.Contains(nameof(PigatoLogEvents.UserCodeHeldLoop), StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACallerThatWaitsSynchronouslyInItsContinuation_ForAnotherRequest_IsAnswered()
    {
        // Sync over async on the client's own thread: the continuation blocks the thread that would read the reply it
        // waits for. The client's loop moves to a new thread, which reads it: no deadlock.
        await using var harness = await PigatoHarness.StartAsync();
        var release = new TaskCompletionSource();
        await harness.StartWorkerAsync("echo", async (data, reply, _) =>
        {
            if (data.GetString() == "first")
            {
                await release.Task;
            }

            await reply.EndAsync(data);
        });
        var client = await harness.StartClientAsync();

        // The first reply is released once the caller's continuation is registered (see Caller_ContinuesOnTheClientThread).
        var continued = new TaskCompletionSource<(string? Thread, string? Second)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await Task.Run(() =>
        {
#pragma warning disable CA2012 // Consumed once, by the awaiter, as await would.
            var awaiter = client.RequestAsync<string>("echo", "first", cancellationToken: Bounded.Token()).GetAwaiter();
#pragma warning restore CA2012
            awaiter.OnCompleted(() =>
            {
                awaiter.GetResult();
                var continuedOn = Thread.CurrentThread.Name;
#pragma warning disable VSTHRD002, CA1849 // Blocking on purpose: the behaviour under test.
                continued.SetResult((continuedOn, client.RequestAsync<string>("echo", "second", cancellationToken: Bounded.Token()).AsTask().Result));
#pragma warning restore VSTHRD002, CA1849
            });
        });
        release.SetResult();
        var (thread, second) = await continued.Task.WithinAsync("the caller's synchronous wait");

        Assert.Equal(ClientThread, thread);
        Assert.Equal("second", second);
    }

    [Fact]
    public async Task InlineHandler_ContinuesOnThePoolAfterItsFirstIncompleteAwait()
    {
        await using var harness = await PigatoHarness.StartAsync();
        string? before = null, after = null;
        SynchronizationContext? context = null;
        await harness.StartWorkerAsync("yield", async (data, reply, _) =>
        {
            before = Thread.CurrentThread.Name;
            context = SynchronizationContext.Current;
            await Task.Yield();
            after = Thread.CurrentThread.Name;
            await reply.EndAsync(data);
        }, Inline);
        var client = await harness.StartClientAsync();

        Assert.Equal("done", await client.RequestAsync<string>("yield", "done", cancellationToken: Bounded.Token()));
        Assert.Equal(WorkerThread, before);
        Assert.Null(context);
        Assert.NotEqual(WorkerThread, after);
    }

    [Fact]
    public async Task InlineHandler_LeavesTheWorkerThreadAtItsFirstPartial_AndStreamsInOrder()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var threads = new List<string?>();
        await harness.StartWorkerAsync("stream", async (data, reply, _) =>
        {
            threads.Add(Thread.CurrentThread.Name);
            for (var i = 1; i <= 3; i++)
            {
                await reply.WriteAsync($"p{i}");
                threads.Add(Thread.CurrentThread.Name);
            }

            await reply.EndAsync("final");
        }, Inline);
        var client = await harness.StartClientAsync();

        var replies = new List<string?>();
        await foreach (var reply in client.RequestStreamAsync<string>("stream", null, cancellationToken: Bounded.Token()))
        {
            replies.Add(reply.Data);
        }

        Assert.Equal(["p1", "p2", "p3", "final"], replies);
        Assert.Equal(WorkerThread, threads[0]);
        Assert.DoesNotContain(WorkerThread, threads.Skip(1));
    }

    [Fact]
    public async Task InlineHandlers_ManyAtOnce_AllAnswered()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("echo", (data, reply, _) => reply.EndAsync(data), Inline);
        var client = await harness.StartClientAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 500).Select(i => client.RequestAsync<int>("echo", i, cancellationToken: Bounded.Token()).AsTask()));

        Assert.Equal(Enumerable.Range(0, 500), answers);
    }

    [Fact]
    public async Task InlineHandler_ThatFails_EndsWithAnError()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("fail", (_, _, _) => throw new InvalidOperationException("boom"), Inline);
        var client = await harness.StartClientAsync();

        var error = await Assert.ThrowsAsync<PigatoReplyException>(async () => await client.RequestAsync<string>("fail", null, cancellationToken: Bounded.Token()));

        Assert.Equal(PigatoErrorCodes.HandlerFailed, error.Code);
    }

    [Fact]
    public async Task InlineHandler_ThatBlocksTheThread_IsLogged()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var log = new ListLogger();
        await harness.StartWorkerAsync("slow", (data, reply, _) =>
        {
            Thread.Sleep(120); // the handler under test blocks: that is what must be reported
            return reply.EndAsync(data);
        }, o => o with { RunHandlersInline = true, LoggerFactory = new Microsoft.Extensions.Logging.LoggerFactory([log]) });
        var client = await harness.StartClientAsync();

        Assert.Equal("late", await client.RequestAsync<string>("slow", "late", cancellationToken: Bounded.Token()));
        Assert.Contains(log.Lines, line => line.Contains(nameof(PigatoLogEvents.InlineHandlerBlocked), StringComparison.Ordinal) && line.Contains("slow", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Caller_ContinuesOnTheClientThread_InlineOrNot(bool inline)
    {
        await using var harness = await PigatoHarness.StartAsync();
        var release = new TaskCompletionSource();
        await harness.StartWorkerAsync("echo", async (data, reply, _) =>
        {
            await release.Task;
            await reply.EndAsync(data);
        });
        var client = await harness.StartClientAsync(o => o with { RunContinuationsInline = inline });

        // Awaited off the test framework's synchronization context, as a console or server caller does; the reply is
        // released only once the caller's continuation is registered (a reply that came first would continue the caller
        // where it stands, which says nothing about where continuations run).
        var continued = new TaskCompletionSource<(string? Answer, string? Thread, SynchronizationContext? Context)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await Task.Run(() =>
        {
#pragma warning disable CA2012 // Consumed once, by the awaiter, as await would: only the registration is split from the wait.
            var awaiter = client.RequestAsync<string>("echo", "x", cancellationToken: Bounded.Token()).GetAwaiter();
#pragma warning restore CA2012
            awaiter.OnCompleted(() => continued.SetResult((awaiter.GetResult(), Thread.CurrentThread.Name, SynchronizationContext.Current)));
        });
        release.SetResult();
        var (answer, thread, context) = await continued.Task.WithinAsync("the caller's continuation");

        Assert.Equal("x", answer);
        Assert.Equal(ClientThread, thread);
        Assert.Null(context);
    }

    [Fact]
    public async Task InlineContinuations_SequentialRequestsAndATimeout_AllEnd()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("echo", (data, reply, _) => reply.EndAsync(data));
        var client = await harness.StartClientAsync(o => o with { RunContinuationsInline = true });

        var (answers, thread, afterTimeout) = await Task.Run(async () =>
        {
            // Each request is sent from the previous one's continuation, on the client's thread.
            var answers = new List<int>();
            for (var i = 0; i < 100; i++)
            {
                answers.Add(await client.RequestAsync<int>("echo", i, cancellationToken: Bounded.Token()));
            }

            var thread = Thread.CurrentThread.Name;
            await Assert.ThrowsAsync<PigatoTimeoutException>(async () =>
                await client.RequestAsync<string>("nobody", null, new RequestOptions { Timeout = TimeSpan.FromMilliseconds(200) }));
            return (answers, thread, await client.RequestAsync<string>("echo", "after", cancellationToken: Bounded.Token()));
        });

        Assert.Equal(Enumerable.Range(0, 100), answers);
        Assert.Equal(ClientThread, thread);
        Assert.Equal("after", afterTimeout);
        Assert.Equal(0, client.PendingCount);
    }
}
