using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

/// <summary>The answer channel of one request, given to a worker's handler.</summary>
/// <remarks>All members are safe from any thread. Nothing can be sent after the final reply, an error or a rejection.</remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "The token source holds nothing to release (a deadline's timer is stopped when the request ends), and handlers may still read its token after the request ends.")]
public sealed class WorkerReply
{
    private readonly Worker _worker;
    private readonly Lock _gate = new();
    private CancellationTokenSource? _inactive;
    private int _liveness;
    private int _ended;
    private volatile bool _deactivated;
    private string? _requestId;

    internal WorkerReply(Worker worker, string service, byte[] clientId, byte[] rid, BrokerConnection connection, int liveness)
    {
        _worker = worker;
        Service = service;
        ClientId = clientId;
        Rid = rid;
        Connection = connection;
        Generation = connection.Generation;
        _liveness = liveness;
    }

    /// <summary>The request id (a uuid made by the client).</summary>
    /// <remarks>Decoded on first use: the worker itself keys requests by the rid's bytes.</remarks>
    public string RequestId => _requestId ??= Utf8.Decode(Rid);

    /// <summary>The service name the client asked for (may differ from the worker's: wildcards, semver).</summary>
    public string Service { get; }

    /// <summary>True once the final reply, an error or a rejection was sent.</summary>
    public bool Ended => Volatile.Read(ref _ended) != 0;

    /// <summary>
    /// False once the reply ended, or the request went inactive: its client cancelled it, its deadline passed, no request
    /// heartbeat from the client for <see cref="WorkerOptions.Liveness"/> periods, the broker lost, or the worker stopping.
    /// </summary>
    public bool IsActive => !Ended && !_deactivated && RemainingBudget != TimeSpan.Zero;

    /// <summary>
    /// When the request's caller stops waiting, on this machine's clock (the budget it sent, less the time the request
    /// spent before it got here), or null when it set no deadline (<see cref="RequestOptions.Deadline"/>). The
    /// <see cref="CancellationToken"/> trips then. A <see cref="Client"/> called from the handler gives its requests no
    /// more than what remains.
    /// </summary>
    public DateTimeOffset? Deadline => _deadline?.Wall;

    /// <summary>The deadline, when the request has one (an object apart: most have none and pay one reference).</summary>
    private RequestDeadline? _deadline;

    /// <summary>What is left of the caller's budget now (zero when passed), or null without a deadline.</summary>
    internal TimeSpan? RemainingBudget =>
        _deadline is { } deadline ? Time.GetElapsedTime(Time.GetTimestamp(), deadline.At) is var left && left > TimeSpan.Zero ? left : TimeSpan.Zero : null;

    /// <summary>The worker's clock (<see cref="WorkerOptions.TimeProvider"/>).</summary>
    private TimeProvider Time => _worker.Options.TimeProvider;

    /// <summary>Sets the deadline from the budget the broker carried (<paramref name="remaining"/> from now); the token trips at it.</summary>
    internal void SetDeadline(TimeSpan remaining)
    {
        _deadline = new RequestDeadline(Time.GetUtcNow() + remaining, Time.GetTimestamp() + (long)(remaining.TotalSeconds * Time.TimestampFrequency));
        lock (_gate)
        {
            (_inactive ??= NewInactiveSource()).CancelAfter(remaining);
        }
    }

    /// <summary>Trips when the request goes inactive (not when it ends normally): stop long work then.</summary>
    /// <remarks>Made on first use: most handlers never ask for it.</remarks>
    public CancellationToken CancellationToken
    {
        get
        {
            lock (_gate)
            {
                if (_deactivated && _inactive is null)
                {
                    return new CancellationToken(canceled: true);
                }

                return (_inactive ??= NewInactiveSource()).Token;
            }
        }
    }

    /// <summary>
    /// The options object sent with every reply from now on (the caller reads it as <see cref="PigatoReply{T}.Options"/>);
    /// null sends <c>{}</c>. Set it before the reply that should carry it.
    /// </summary>
    public JsonObject? ReplyOptions { get; set; }

    internal byte[] ClientId { get; }

    internal byte[] Rid { get; }

    /// <summary>The broker connection this request arrived on.</summary>
    internal BrokerConnection Connection { get; }

    /// <summary>The connection's generation when the request arrived; replies for an older one are dropped.</summary>
    internal int Generation { get; }

    /// <summary>Sends a partial reply; waits when too many replies are queued (back-pressure).</summary>
    public ValueTask WriteAsync<T>(T data, CancellationToken cancellationToken = default) =>
        SendAsync(ReplyKind.Partial, Serialize(data), cancellationToken);

    /// <summary>Sends a partial reply written with source-generated type info (trimming and AOT safe).</summary>
    public ValueTask WriteAsync<T>(T data, JsonTypeInfo<T> dataType, CancellationToken cancellationToken = default) =>
        SendAsync(ReplyKind.Partial, JsonSerializer.SerializeToUtf8Bytes(data, dataType), cancellationToken);

    /// <summary>Sends bytes as a partial reply's data frame, unchanged (copied before this returns: the caller may reuse them).</summary>
    public ValueTask WriteRawAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        SendAsync(ReplyKind.Partial, data.ToArray(), cancellationToken);

    /// <summary>
    /// Sends bytes as a partial reply's data frame without copying them: the worker takes <paramref name="data"/> as it is
    /// and disposes <paramref name="owner"/> once it has written them out (or could not), so the caller must not touch
    /// them after this call, e.g. <c>WriteRawAsync(rented.Memory[..length], rented)</c> with a <see cref="System.Buffers.MemoryPool{T}"/> buffer.
    /// </summary>
    public ValueTask WriteRawAsync(ReadOnlyMemory<byte> data, IDisposable owner, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return SendAsync(ReplyKind.Partial, data, cancellationToken, owner);
    }

    /// <summary>Sends the final reply with data.</summary>
    public ValueTask EndAsync<T>(T data) => SendAsync(ReplyKind.Final, Serialize(data), default);

    /// <summary>Sends the final reply written with source-generated type info (trimming and AOT safe).</summary>
    public ValueTask EndAsync<T>(T data, JsonTypeInfo<T> dataType) => SendAsync(ReplyKind.Final, JsonSerializer.SerializeToUtf8Bytes(data, dataType), default);

    /// <summary>Sends bytes as the final reply's data frame, unchanged (copied before this returns: the caller may reuse them).</summary>
    public ValueTask EndRawAsync(ReadOnlyMemory<byte> data) => SendAsync(ReplyKind.Final, data.ToArray(), default);

    /// <summary>
    /// Sends bytes as the final reply's data frame without copying them: the worker takes <paramref name="data"/> as it is
    /// and disposes <paramref name="owner"/> once it has written them out (or could not), so the caller must not touch
    /// them after this call.
    /// </summary>
    public ValueTask EndRawAsync(ReadOnlyMemory<byte> data, IDisposable owner)
    {
        ArgumentNullException.ThrowIfNull(owner);
        return SendAsync(ReplyKind.Final, data, default, owner);
    }

    /// <summary>Sends the final reply without data (the data frame is <c>null</c>).</summary>
    public ValueTask EndAsync() => SendAsync(ReplyKind.Final, PigatoFrames.Null, default);

    /// <summary>Sends an error reply (status -1) carrying <paramref name="error"/>, which the client receives as <see cref="PigatoReplyException.Error"/>.</summary>
    public ValueTask ErrorAsync<T>(T error)
    {
        var sent = SendAsync(ReplyKind.Error, Serialize(error), default);

        // Only an error reply that ended the request counts (one after the end is refused: SendAsync faults at once).
        if (!sent.IsFaulted)
        {
            EndedWithError = true;
        }

        return sent;
    }

    /// <summary>Gives the request back to the broker, which hands it to another worker (never this one again).</summary>
    public ValueTask RejectAsync(object? reason = null) => SendAsync(ReplyKind.Reject, Serialize(reason), default);

    /// <summary>Sends a worker heartbeat to the broker now (with the current concurrency).</summary>
    public void Heartbeat() => _worker.SendHeartbeatSoon();

    /// <summary>Sends every item of <paramref name="items"/> as a partial reply, in order.</summary>
    public async ValueTask WriteAllAsync<T>(IAsyncEnumerable<T> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        await foreach (var item in items.WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            await WriteAsync(item, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Sends the text of <paramref name="stream"/> as partial replies, one JSON string per chunk read.</summary>
    /// <remarks>Characters split across reads are kept whole; <paramref name="encoding"/> defaults to UTF-8.</remarks>
    public async ValueTask CopyFromAsync(Stream stream, Encoding? encoding = null, int bufferSize = 16 * 1024, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentOutOfRangeException.ThrowIfLessThan(bufferSize, 1);
        using var reader = new StreamReader(stream, encoding ?? Encoding.UTF8, detectEncodingFromByteOrderMarks: false, bufferSize, leaveOpen: true);
        var buffer = new char[bufferSize];
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
        {
            await WriteAsync(new string(buffer, 0, read), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Ends the request with an error unless it already ended; used when the handler fails.</summary>
    internal void TryFail(string code)
    {
        if (!TryMarkEnded())
        {
            return;
        }

        _worker.QueueReply(this, new ReplyData(ReplyKind.Error, Serialize(code), OptionsFrame()));
    }

    /// <summary>Gives the request back to the broker unless it already ended (a stopping or busy worker), with the reason.</summary>
    internal void TryReject(string reason)
    {
        if (TryMarkEnded())
        {
            _worker.QueueReply(this, new ReplyData(ReplyKind.Reject, Serialize(reason), PigatoFrames.EmptyObject));
        }
    }

    /// <summary>Ends the request with no data unless it already ended; used when the handler returns.</summary>
    internal void TryEnd()
    {
        if (TryMarkEnded())
        {
            _worker.QueueReply(this, new ReplyData(ReplyKind.Final, PigatoFrames.Null, OptionsFrame()));
        }
    }

    /// <summary>A request heartbeat arrived (worker thread).</summary>
    internal void Refresh(int liveness) => _liveness = liveness;

    /// <summary>One heartbeat period passed (worker thread); the request goes inactive when its liveness runs out.</summary>
    internal void Tick()
    {
        if (--_liveness <= 0)
        {
            Deactivate();
        }
    }

    /// <summary>Trips the token off the worker's thread so that user callbacks never run on it.</summary>
    internal void Deactivate()
    {
        CancellationTokenSource? inactive;
        lock (_gate)
        {
            if (_deactivated)
            {
                return;
            }

            _deactivated = true;
            inactive = _inactive;
        }

        if (inactive is not null)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static cts => cts.Cancel(), inactive, preferLocal: false);
        }
    }

    /// <summary>Queues a reply; an <paramref name="owner"/> of the data is disposed once the loop wrote it out, or here when it cannot be queued.</summary>
    private async ValueTask SendAsync(ReplyKind kind, ReadOnlyMemory<byte> data, CancellationToken cancellationToken, IDisposable? owner = null)
    {
        try
        {
            if (kind == ReplyKind.Partial)
            {
                ThrowIfEnded();
                await _worker.QueueReplyAsync(this, new ReplyData(kind, data, OptionsFrame(), owner), cancellationToken).ConfigureAwait(false);
                return;
            }

            if (!TryMarkEnded())
            {
                ThrowIfEnded();
            }
        }
        catch
        {
            owner?.Dispose();
            throw;
        }

        _worker.QueueReply(this, new ReplyData(kind, data, OptionsFrame(), owner));
    }

    /// <summary>The worker this request came to.</summary>
    internal Worker Owner => _worker;

    /// <summary>The ending reply on its way to the worker's loop (set once, before it is posted).</summary>
    internal ReplyData Ending { get; set; }

    /// <summary>
    /// The request's data, parsed on the worker's loop from the frame as it arrived (a <see cref="JsonElement"/> worker,
    /// valid data up to <see cref="Worker.ParseOnLoopLimit"/> bytes), so that no copy of the frame is made for the handler.
    /// </summary>
    internal JsonElement? ParsedData { get; set; }

    /// <summary>True when the handler ended the request with <see cref="ErrorAsync{T}"/> (for the worker's metrics).</summary>
    internal bool EndedWithError { get; private set; }

    /// <summary>Claims the request's one ending (final reply, error or rejection); false when it already ended.</summary>
    private bool TryMarkEnded()
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return false;
        }

        if (_deadline is not null)
        {
            // Ended in time: the deadline's timer is not needed any more.
            lock (_gate)
            {
                _inactive?.CancelAfter(Timeout.InfiniteTimeSpan);
            }
        }

        return true;
    }

    private void ThrowIfEnded()
    {
        if (Ended)
        {
            throw new InvalidOperationException($"The reply to request {RequestId} has already ended: nothing more can be sent.");
        }
    }

    /// <summary>The options frame of the reply being queued (made on the caller's thread, as <see cref="ReplyOptions"/> is now).</summary>
    internal ReadOnlyMemory<byte> OptionsFrame() =>
        ReplyOptions is { } options ? JsonSerializer.SerializeToUtf8Bytes(options, JsonObjectContext.Default.JsonObject) : PigatoFrames.EmptyObject;

    private byte[] Serialize<T>(T value) =>
        JsonSerializer.SerializeToUtf8Bytes(value, _worker.Options.SerializerOptions);

    /// <summary>The source of <see cref="CancellationToken"/>, on the worker's clock (a deadline trips it by that clock).</summary>
    private CancellationTokenSource NewInactiveSource() => new(Timeout.InfiniteTimeSpan, Time);

    /// <summary>A request's deadline: on the wall clock (for the handler) and as a timestamp of the worker's clock.</summary>
    private sealed record RequestDeadline(DateTimeOffset Wall, long At);
}
