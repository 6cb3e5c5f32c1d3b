using System.Text.Json;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

/// <summary>The worker's requests: running their handlers (on the thread pool, or inline), sending their replies, draining at stop.</summary>
public sealed partial class Worker
{
    /// <summary>An inline handler holding the loop longer than this before its first await is logged.</summary>
    private static readonly TimeSpan InlineBlockLimit = TimeSpan.FromMilliseconds(50);

    private readonly SemaphoreSlim _replyCredits;

    /// <summary>Credits of partial replies sent while a connection was backlogged: given back once it drained (loop thread).</summary>
    private int _heldReplyCredits;
    private long? _inlineBlockLoggedAt;
    private readonly ActiveRequests _active = new();
    private int _running;

    /// <summary>
    /// The requests' options as JSON, with the deadline they carry (loop thread): a client sends the same options with most
    /// of its requests, so the last frame's parse serves the same bytes (a parsed JsonElement is immutable: handlers may share it).
    /// </summary>
    private readonly LastParsed<RequestOptionsRead> _parsedOptions = new(static frame => RequestOptionsRead.Of(JsonFrame.Parse(frame, keepInvalidAsText: false)));

    /// <summary>The requests' service names as text (loop thread): a worker mostly serves the one name.</summary>
    private readonly LastParsed<string> _serviceNames = new(static frame => Utf8.Decode(frame));

    /// <summary>The requests' client ids (loop thread): requests in a row mostly come from one client, and share its id's array.</summary>
    private readonly LastParsed<byte[]> _clientIds = new(static frame => frame);
    private volatile bool _draining;
    private volatile bool _stopping;
    private TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How long a stop waits for handlers that ignore their request going inactive.</summary>
    private static readonly TimeSpan HandlerStopWait = TimeSpan.FromSeconds(5);

    /// <summary>Queues a partial reply, waiting for room when <see cref="WorkerOptions.MaxQueuedReplies"/> are queued.</summary>
    /// <remarks>An inline handler leaves the worker's thread at its first partial: a stream never holds the loop.</remarks>
    internal async ValueTask QueueReplyAsync(WorkerReply reply, ReplyData data, CancellationToken cancellationToken)
    {
        await _replyCredits.WaitAsync(cancellationToken).ConfigureAwait(false);
        var onLoop = _loop?.OnLoopThread == true;
        if (!TryPost(() =>
        {
            SendReply(reply, data);
            HoldOrRelease();
        }))
        {
            _replyCredits.Release();
            data.Release();
        }

        if (onLoop)
        {
            await Task.Yield(); // no synchronization context here (RunInline lifted it): the handler goes on on the thread pool
        }
    }

    /// <summary>
    /// Gives a partial's credit back, unless its connection keeps messages in its local queue: then the credit waits until
    /// the queue drained, so that a handler streaming faster than the broker reads waits instead of overflowing the queue.
    /// </summary>
    private void HoldOrRelease()
    {
        if (_connections.AnyBacklogged())
        {
            _heldReplyCredits++;
        }
        else
        {
            _replyCredits.Release();
        }
    }

    /// <summary>After every loop callback: the held credits go back once no connection is backlogged (drained, or closed).</summary>
    private void ReleaseHeldReplyCredits()
    {
        if (_heldReplyCredits > 0 && !_connections.AnyBacklogged())
        {
            _replyCredits.Release(_heldReplyCredits);
            _heldReplyCredits = 0;
        }
    }

    /// <summary>
    /// Queues an ending reply (final, error, reject): those never wait, so a request always ends. A request ends once, so
    /// the reply carries its ending to the loop and posting it allocates nothing.
    /// </summary>
    internal void QueueReply(WorkerReply reply, ReplyData data)
    {
        reply.Ending = data;
        if (!TryPost(SendEnding, reply))
        {
            data.Release();
        }
    }

    private static void SendEnding(object? state)
    {
        var reply = (WorkerReply)state!;
        reply.Owner.SendReply(reply, reply.Ending);
    }

    private bool TryPost(Action command) => TryPost(ActorLoop.Invoke, command);

    /// <summary>
    /// Runs on the loop (at once when called there: a reply made by an inline handler, or a refusal); false when the worker
    /// has stopped (the reply is moot: the broker already settled the request).
    /// </summary>
    private bool TryPost(Action<object?> command, object? state)
    {
        try
        {
            if (_loop is { } loop)
            {
                loop.RunOrPost(command, state);
                return true;
            }
        }
        catch (PigatoException)
        {
            // Stopped meanwhile.
        }

        return false;
    }

    private void OnRequest(BrokerConnection connection, MessageFields request)
    {
        var reply = new WorkerReply(
            this,
            _serviceNames.Parse(request.Service),
            _clientIds.Parse(request.ClientId),
            request.Rid.ToArray(),
            connection,
            Options.Liveness);
        _active.Add(reply);
        if (_draining)
        {
            reply.TryReject(PigatoErrorCodes.WorkerStopping);
            return;
        }

        // One limit for the whole worker, across reconnections: handlers of an older connection still count.
        var limit = Concurrency;
        if (limit >= 0 && Volatile.Read(ref _running) >= limit)
        {
            reply.TryReject(PigatoErrorCodes.WorkerBusy);
            return;
        }

        var data = ParsedOnLoop(reply, request.Data) ? [] : request.Data.ToArray();
        var (options, deadline) = _parsedOptions.Parse(request.Options);
        if (deadline is { } remaining)
        {
            reply.SetDeadline(remaining);
        }

        Interlocked.Increment(ref _running);
        if (Options.RunHandlersInline)
        {
            RunInline(reply, data, options);
        }
        else
        {
            var start = new HandlerStart(this, reply, data, options);
            if (_lane?.TryRun(HandlerStart.Run, start) != true)
            {
                ThreadPool.UnsafeQueueUserWorkItem(start, preferLocal: false);
            }
        }
    }

    /// <summary>
    /// A <see cref="JsonElement"/> worker parses valid data up to this size on the loop, from the frame as it arrived (the
    /// element keeps its own copy): the worker copies the frame for nothing else. Larger data is copied and parsed by the
    /// handler, off the loop when it runs elsewhere.
    /// </summary>
    internal const int ParseOnLoopLimit = 16 * 1024;

    /// <summary>True when <paramref name="data"/> was parsed into <paramref name="reply"/>'s <see cref="WorkerReply.ParsedData"/>.</summary>
    private bool ParsedOnLoop(WorkerReply reply, ReadOnlySpan<byte> data)
    {
        if (!_parsesOnLoop || data.Length > ParseOnLoopLimit || PigatoFrames.IsAbsent(data))
        {
            return false;
        }

        try
        {
            reply.ParsedData = JsonSerializer.Deserialize<JsonElement>(data, Options.SerializerOptions);
            return true;
        }
#pragma warning disable CA1031 // Invalid data, or a converter of the options that throws: the handler's own parse reports it, as it did before.
        catch (Exception)
#pragma warning restore CA1031
        {
            return false;
        }
    }

    /// <summary>
    /// A handler's start off the loop (on the worker's hand-off lane when it is free, else the thread pool): one small
    /// object instead of a closure and a Task, and no execution context to capture (the loop's carries nothing of the
    /// caller's; the handler's span is made when it starts).
    /// </summary>
    private sealed class HandlerStart(Worker worker, WorkerReply reply, byte[] data, JsonElement options) : IThreadPoolWorkItem
    {
        public static readonly Action<object?> Run = static state => ((HandlerStart)state!).Execute();

        public void Execute() => _ = worker.RunHandlerAsync(reply, data, options);
    }

    /// <summary>
    /// Runs a handler on the loop up to its first incomplete await. The poller's synchronization context is lifted meanwhile,
    /// so that what follows that await continues on the thread pool, never back on the loop.
    /// </summary>
    private void RunInline(WorkerReply reply, byte[] data, JsonElement options)
    {
        var time = Options.TimeProvider;
        var startedAt = time.GetTimestamp();
        using (NoSynchronizationContext.Enter())
        {
            if (TaskScheduler.Current == TaskScheduler.Default)
            {
                _ = RunHandlerAsync(reply, data, options);
            }
            else
            {
                // Inside a task of the loop's own scheduler (a continuation the poller ran): the handler's awaits, and its
                // hop off the loop at its first partial, would come back to the loop. It starts under the default scheduler.
                new Task(() => _ = RunHandlerAsync(reply, data, options)).RunSynchronously(TaskScheduler.Default);
            }
        }

        var now = time.GetTimestamp();
        var blocked = time.GetElapsedTime(startedAt, now);
        if (blocked > InlineBlockLimit && (_inlineBlockLoggedAt is not { } logged || time.GetElapsedTime(logged, now) > TimeSpan.FromSeconds(1)))
        {
            _inlineBlockLoggedAt = now;
            Log.InlineHandlerBlocked(_logger, Service, reply.RequestId, blocked);
        }
    }

    private async Task RunHandlerAsync(WorkerReply reply, byte[] data, JsonElement options)
    {
        // The handler runs inside the "process" span (its own spans nest under it), a child of the request's trace.
        using var activity = Tracing.Source.HasListeners()
            ? Tracing.Start("process", reply.Service, System.Diagnostics.ActivityKind.Server, reply.RequestId, Tracing.Extract(options))
            : null;
        var startedAt = Options.TimeProvider.GetTimestamp();
        string? error = null;
        ActorMetrics.HandlerStarted(reply.Service);
        try
        {
            if (reply.Deadline is not null)
            {
                HandlerContext.Enter(reply);
            }

            await _handler(data, reply, options).ConfigureAwait(false);
            reply.TryEnd();
            error = reply.EndedWithError ? "ERR_REPLY" : null;
        }
        catch (PigatoException e)
        {
            error = e.Code;
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Code);
            reply.TryFail(e.Code);
        }
        catch (OperationCanceledException) when (!reply.IsActive)
        {
            // The request went inactive (its client cancelled it or stopped heartbeating it, or its deadline passed) and
            // the handler stopped as its token asked: not a failure. The broker drops the error reply of a cancelled
            // request; a caller past its deadline has failed it with C_TIMEOUT on its own.
            error = reply.RemainingBudget == TimeSpan.Zero ? PigatoErrorCodes.Timeout : PigatoErrorCodes.Cancelled;
            reply.TryFail(error);
        }
#pragma warning disable CA1031 // A handler's failure becomes an error reply, never a crash.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, Service, reply.RequestId, e);
            error = PigatoErrorCodes.HandlerFailed;
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, PigatoErrorCodes.HandlerFailed);
            reply.TryFail(PigatoErrorCodes.HandlerFailed);
        }
        finally
        {
            ActorMetrics.HandlerEnded(reply.Service, Options.TimeProvider, startedAt, error);
            if (Interlocked.Decrement(ref _running) == 0 && (_draining || _stopping))
            {
                _drained.TrySetResult();
            }
        }
    }

    /// <summary>Writes a reply out on the loop, then gives a handed-over data buffer back.</summary>
    private void SendReply(WorkerReply reply, ReplyData data)
    {
        try
        {
            if (data.Kind != ReplyKind.Partial)
            {
                _active.Remove(reply);
            }

            var connection = reply.Connection;
            if (reply.Generation != connection.Generation || !connection.IsOpen)
            {
                // The broker no longer knows this request (it was retried or failed when this worker left).
                Log.Request(_logger, reply.RequestId, reply.Service, "reply dropped: connection to the broker was lost meanwhile");
                return;
            }

            var sent = connection.SendReply(reply.ClientId, reply.Rid, data);
            if (!sent)
            {
                RaiseError(PigatoErrorCodes.Unroutable, $"Reply to request {reply.RequestId} could not be queued towards the broker.");
            }
        }
        finally
        {
            data.Release();
        }
    }

    /// <summary>
    /// After the connections closed (handlers were told: their requests went inactive), waits for the handlers still
    /// running, so that none outlives the worker's stop by more than <see cref="HandlerStopWait"/>.
    /// </summary>
    private async Task AwaitHandlersAsync()
    {
        _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _stopping = true;
        var running = Volatile.Read(ref _running);
        if (running == 0)
        {
            return;
        }

        try
        {
            await _drained.Task.WaitAsync(HandlerStopWait).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.HandlersStillRunning(_logger, Service, Volatile.Read(ref _running), HandlerStopWait);
        }
    }

    /// <summary>Takes no more requests, lets the running ones finish within the grace period, rejects the rest.</summary>
    private async Task DrainAsync(ActorLoop loop, CancellationToken cancellationToken)
    {
        _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _draining = true;
        await loop.InvokeAsync(() => SendHeartbeats()).ConfigureAwait(false); // concurrency 0: the broker dispatches nothing more here
        var running = Volatile.Read(ref _running);
        if (running == 0)
        {
            _drained.TrySetResult();
        }

        Log.Draining(_logger, Id ?? Service, running, Options.ShutdownGracePeriod);
        try
        {
            await _drained.Task.WaitAsync(Options.ShutdownGracePeriod, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            // Grace period over: what is still running is given back to the broker below.
        }

        await loop.InvokeAsync(() =>
        {
            foreach (var reply in _active.Values.ToList())
            {
                reply.TryReject(PigatoErrorCodes.WorkerStopping);
            }
        }).ConfigureAwait(false);
    }

    /// <summary>A request's options as the worker reads them once per distinct frame: the JSON, and the deadline budget it carries.</summary>
    private readonly record struct RequestOptionsRead(JsonElement Options, TimeSpan? Deadline)
    {
        public static RequestOptionsRead Of(JsonElement options) =>
            new(options, options.ValueKind == JsonValueKind.Object && options.TryGetProperty("deadline"u8, out var budget) && budget.ValueKind == JsonValueKind.Number && budget.TryGetDouble(out var ms)
                ? TimeSpan.FromMilliseconds(Math.Clamp(ms, 0, int.MaxValue))
                : null);
    }
}
