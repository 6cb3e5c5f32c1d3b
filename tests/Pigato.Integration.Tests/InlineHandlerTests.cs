using System.Text.Json;
using Pigato.Integration.Tests.Infrastructure;

namespace Pigato.Integration.Tests;

/// <summary><see cref="WorkerOptions.RunHandlersInline"/>: handlers start on the worker's thread and leave it at their first await.</summary>
public class InlineHandlerTests
{
    /// <summary>The name ActorLoop gives the worker's thread.</summary>
    private const string WorkerThread = "Pigato.Worker";

    private static WorkerOptions Inline(WorkerOptions options) => options with { RunHandlersInline = true };

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Handler_StartsOnTheWorkerThreadOnlyWhenInline(bool inline)
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
        Assert.Equal(inline, thread == WorkerThread);
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
}
