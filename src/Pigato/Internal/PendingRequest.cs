using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using Pigato.Protocol;

namespace Pigato.Internal;

/// <summary>Reads a reply's data frame as <typeparamref name="T"/> (JSON with options or type info, or raw bytes).</summary>
internal delegate T? ReplyReader<T>(ReadOnlySpan<byte> data);

/// <summary>
/// A request a client waits on. Replies arrive on the client's loop thread; <see cref="TryComplete"/>
/// makes sure exactly one ending (final reply, error, timeout, cancellation, stop) wins.
/// </summary>
internal abstract class PendingRequest(string service, TimeSpan timeout)
{
    private int _completed;
    private TimeProvider _time = TimeProvider.System;
    private long _lastActivity;
    private string? _rid;

    /// <summary>The request id as its frame (the client's table keys by it); renewed when the request is sent again after a reconnection.</summary>
    public byte[] RidFrame { get; private set; } = RequestIds.Next();

    /// <summary>The request id as text, made on first use (logs, traces, the callback API): read it on the loop thread, or before the request is sent.</summary>
    public string Rid => _rid ??= System.Text.Encoding.UTF8.GetString(RidFrame);

    /// <summary>The frames to send (kept so that a <c>retry</c> request can be sent again).</summary>
    public RequestFrames? Frames { get; set; }

    /// <summary>The broker connection it was sent on; null while not sent.</summary>
    public BrokerConnection? Connection { get; set; }

    /// <summary>That connection's <see cref="BrokerConnection.Generation"/> when it was sent.</summary>
    public int Generation { get; set; }

    /// <summary>How many times it was sent: 1, then one more for each resend of a <c>retry</c> request after its broker was lost.</summary>
    public int Attempt { get; set; }

    /// <summary>Brokers that answered <c>ERR_NO_WORKERS</c> so far (with several, the others are tried before it fails).</summary>
    public int NoWorkersReplies { get; set; }

    /// <summary>The rid of its first attempt (a resend goes under a new rid; the worker sees this one as <c>firstRid</c>).</summary>
    public string? FirstRid { get; set; }

    /// <summary>True while it waits at a broker on <paramref name="connection"/>'s current identity.</summary>
    public bool IsAt(BrokerConnection connection) => Connection == connection && Generation == connection.Generation;

    public string Service { get; } = service;

    public TimeSpan Timeout { get; } = timeout;

    /// <summary>When it was handed to the client (<see cref="Start"/>), on the client's clock.</summary>
    public long SentAt { get; private set; }

    /// <summary>Starts the request on the client's clock (<see cref="ClientOptions.TimeProvider"/>): its timeout and budget count from now.</summary>
    public void Start(TimeProvider time)
    {
        _time = time;
        SentAt = _lastActivity = time.GetTimestamp();
    }

    public CancellationTokenRegistration Cancellation { get; set; }

    /// <summary>The request's <c>send</c> span, when someone listens to the Pigato activity source.</summary>
    public System.Diagnostics.Activity? Activity { get; set; }

    /// <summary>When the request fails with C_TIMEOUT unless something arrives first; long.MaxValue for never.</summary>
    public long Deadline => Math.Min(BudgetEnd, Timeout == System.Threading.Timeout.InfiniteTimeSpan
        ? long.MaxValue
        : Volatile.Read(ref _lastActivity) + (long)(Timeout.TotalSeconds * _time.TimestampFrequency));

    /// <summary>The request's budget, when it has one (an object apart: most requests have none and pay one reference).</summary>
    private RequestBudget? _budget;

    /// <summary>When its budget (<see cref="RequestOptions.Deadline"/>, or what its handler's request had left) runs out, as a timestamp; long.MaxValue without one.</summary>
    public long BudgetEnd => _budget?.End ?? long.MaxValue;

    /// <summary>Gives the request a budget from now.</summary>
    public void SetBudget(TimeSpan budget) =>
        _budget = new RequestBudget(budget, _time.GetTimestamp() + (long)(budget.TotalSeconds * _time.TimestampFrequency));

    /// <summary>
    /// Made from a handler (its budget set from what that request had left), it is cancelled if that request ends early.
    /// Called once the request is registered: an already tripped token cancels it at once.
    /// </summary>
    public void TieTo(WorkerReply handlerRequest, Action<PendingRequest> cancel) =>
        _budget!.HandlerCancellation = handlerRequest.CancellationToken.Register(() => cancel(this));

    /// <summary>The failure at <see cref="Deadline"/>: its budget or its timeout ran out.</summary>
    public PigatoTimeoutException TimedOut(long now) => new(Service, _budget is { } budget && now >= budget.End ? budget.Length : Timeout);

    /// <summary>A request's whole budget: its length, when it runs out (a timestamp), and its tie to the handler's request it was made from.</summary>
    private sealed class RequestBudget(TimeSpan length, long end)
    {
        public TimeSpan Length { get; } = length;

        public long End { get; } = end;

        public CancellationTokenRegistration HandlerCancellation { get; set; }
    }

    public bool IsCompleted => Volatile.Read(ref _completed) != 0;

    public void Touch() => Volatile.Write(ref _lastActivity, _time.GetTimestamp());

    /// <summary>Takes a new request id, so that a resend is a new request to the broker (loop thread).</summary>
    public void RenewRid()
    {
        RidFrame = RequestIds.Next();
        _rid = null;
    }

    /// <summary>Claims the right to end the request; false when another ending came first.</summary>
    public bool TryComplete()
    {
        if (Interlocked.Exchange(ref _completed, 1) != 0)
        {
            return false;
        }

        Cancellation.Dispose();
        _budget?.HandlerCancellation.Dispose();
        return true;
    }

    /// <summary>A partial reply arrived (loop thread).</summary>
    public abstract void OnPartial(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options);

    /// <summary>The request ended with a final reply (loop thread, after <see cref="TryComplete"/>).</summary>
    public abstract void OnFinal(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options);

    /// <summary>The request ended without a reply: timeout, cancellation, stop (any thread, after <see cref="TryComplete"/>).</summary>
    public abstract void OnFailed(Exception exception);

    /// <summary>
    /// The exception for an error reply (status -1, data = the error value): the broker's own outcome when its
    /// options frame carries the broker's mark (which a .NET broker never relays from a worker), else the worker's.
    /// </summary>
    protected PigatoException ReplyError(ReadOnlySpan<byte> data, ReadOnlySpan<byte> options)
    {
        var error = JsonFrame.Parse(data, keepInvalidAsText: true);
        return options.SequenceEqual(PigatoFrames.BrokerOrigin.Span) && error.ValueKind == JsonValueKind.String
            ? new PigatoBrokerException(Service, error.GetString()!)
            : new PigatoReplyException(Service, error);
    }

    /// <summary>The reply's options frame as JSON (undefined when absent or not JSON).</summary>
    protected static JsonElement ReplyOptions(ReadOnlySpan<byte> options) =>
        options.IsEmpty || options.SequenceEqual(PigatoFrames.EmptyObject.Span) ? default : JsonFrame.Parse(options, keepInvalidAsText: false);
}

/// <summary>The frames of a request other than its id.</summary>
internal sealed record RequestFrames(byte[] Service, byte[] Data, byte[] Options, bool Retry, bool Persist = false);

/// <summary>
/// Awaited with <c>RequestAsync</c>: partials are ignored, the final reply completes the task. Its continuations run on
/// the client's hand-off lane (the thread pool when the lane is busy or the client not started), or, with
/// <paramref name="inline"/>, on the thread that ends the request (<see cref="ClientOptions.RunContinuationsInline"/>).
/// </summary>
internal sealed class TaskRequest<T>(string service, TimeSpan timeout, ReplyReader<T> reader, bool inline, HandOffLane? lane) : PendingRequest(service, timeout), IThreadPoolWorkItem
{
    private static readonly Action<object?> Settle = static state => ((TaskRequest<T>)state!).SettleHere();

    private readonly TaskCompletionSource<PigatoReply<T>> _result = new();
    private PigatoReply<T> _reply;
    private Exception? _error;
    private int _ended;

    public Task<PigatoReply<T>> Task => _result.Task;

    public override void OnPartial(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options)
    {
    }

    public override void OnFinal(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options)
    {
        if (!PigatoDecoder.IsOkStatus(status))
        {
            End(default, ReplyError(data, options));
            return;
        }

        try
        {
            End(new PigatoReply<T>(reader(data), true, ReplyOptions(options)), null);
        }
        catch (JsonException e)
        {
            End(default, e);
        }
    }

    public override void OnFailed(Exception exception) => End(default, exception);

    /// <summary>The request's one outcome (a later one is ignored), settled where its continuations are to run.</summary>
    private void End(PigatoReply<T> reply, Exception? error)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return;
        }

        (_reply, _error) = (reply, error);
        if (inline)
        {
            SettleHere();
        }
        else if (lane?.TryRun(Settle, this) != true)
        {
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
        }
    }

    void IThreadPoolWorkItem.Execute() => SettleHere();

    private void SettleHere()
    {
        if (_error is not null)
        {
            _result.TrySetException(_error);
        }
        else
        {
            _result.TrySetResult(_reply);
        }
    }
}

/// <summary>Consumed as an async stream: every reply is queued for the reader; an error ends the stream with an exception.</summary>
/// <remarks>
/// The buffer is bounded: replies arrive on the client's one thread, which must never wait for a slow reader, so a
/// reader <paramref name="capacity"/> replies behind ends the stream with <c>ERR_SLOW_CONSUMER</c> instead.
/// </remarks>
internal sealed class StreamRequest<T>(string service, TimeSpan timeout, ReplyReader<T> reader, int capacity) : PendingRequest(service, timeout)
{
    private readonly Channel<PigatoReply<T>> _replies = Channel.CreateBounded<PigatoReply<T>>(
        new BoundedChannelOptions(capacity) { SingleWriter = true, SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    public ChannelReader<PigatoReply<T>> Replies => _replies.Reader;

    /// <summary>Called (loop thread) when the buffer overflowed, so that the client forgets the request.</summary>
    public Action<PendingRequest>? SlowConsumer { get; init; }

    public override void OnPartial(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options) => Write(status, data, options, final: false);

    public override void OnFinal(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options) => Write(status, data, options, final: true);

    public override void OnFailed(Exception exception) => _replies.Writer.TryComplete(exception);

    private void Write(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options, bool final)
    {
        if (!PigatoDecoder.IsOkStatus(status))
        {
            _replies.Writer.TryComplete(ReplyError(data, options));
            return;
        }

        try
        {
            if (!_replies.Writer.TryWrite(new PigatoReply<T>(reader(data), final, ReplyOptions(options))))
            {
                SlowConsumer?.Invoke(this);
                _replies.Writer.TryComplete(new PigatoException(PigatoErrorCodes.SlowConsumer, $"The reader of the reply stream of '{Service}' fell {capacity} replies behind; the request was abandoned."));
                return;
            }

            if (final)
            {
                _replies.Writer.TryComplete();
            }
        }
        catch (JsonException e)
        {
            _replies.Writer.TryComplete(e);
        }
    }
}

/// <summary>Callbacks as in the original: <c>(error, data)</c> for each partial and for the end. They run on the client's thread.</summary>
internal sealed class CallbackRequest<T>(
    string service,
    TimeSpan timeout,
    ReplyReader<T> reader,
    Action<PigatoException?, T?>? onPartial,
    Action<PigatoException?, T?> onFinal) : PendingRequest(service, timeout)
{
    public override void OnPartial(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options)
    {
        if (onPartial is not null)
        {
            Invoke(onPartial, status, data, options);
        }
    }

    public override void OnFinal(ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options) => Invoke(onFinal, status, data, options);

    public override void OnFailed(Exception exception) =>
        onFinal(exception as PigatoException ?? new PigatoException(PigatoErrorCodes.Client, exception.Message, exception), default);

    private void Invoke(Action<PigatoException?, T?> callback, ReadOnlySpan<byte> status, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options)
    {
        if (!PigatoDecoder.IsOkStatus(status))
        {
            callback(ReplyError(data, options), default);
            return;
        }

        T? value;
        try
        {
            value = reader(data);
        }
        catch (JsonException e)
        {
            callback(new PigatoException(PigatoErrorCodes.InvalidData, "Reply data is not a valid " + typeof(T).Name + ": " + e.Message, e), default);
            return;
        }

        callback(null, value);
    }
}
