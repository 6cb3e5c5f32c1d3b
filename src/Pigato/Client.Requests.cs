using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json.Serialization.Metadata;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

/// <summary>The client's request API: awaited, streamed, with callbacks, typed by JSON options or type info, or raw.</summary>
public sealed partial class Client
{
    private byte[]? _defaultOptionsFrame;

    /// <summary>The last options other than the default a request carried, with its frame: callers mostly pass the same again.</summary>
    private OptionsFrame? _lastOptionsFrame;

    /// <summary>The last service name asked for and its frame: callers mostly ask the same service again (any thread).</summary>
    private volatile ServiceName? _lastService;

    /// <inheritdoc />
    public async ValueTask<TResult?> RequestAsync<TResult>(string service, object? data, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        (await SendTyped<TResult>(service, data, options, cancellationToken).ConfigureAwait(false)).Data;

    /// <inheritdoc />
    public ValueTask<PigatoReply<TResult>> RequestReplyAsync<TResult>(string service, object? data, RequestOptions? options = null, CancellationToken cancellationToken = default) =>
        new(SendTyped<TResult>(service, data, options, cancellationToken));

    /// <summary>Sends a request whose data is written and whose reply is read with the client's JSON options; its final reply.</summary>
    private Task<PigatoReply<TResult>> SendTyped<TResult>(string service, object? data, RequestOptions? options, CancellationToken cancellationToken)
    {
        var request = new TaskRequest<TResult>(service, ResolveTimeout(service, options), Serialization.Reader<TResult>(Options.SerializerOptions), Options.RunContinuationsInline, _lane);
        Send(request, Serialization.ToFrame(data, Options.SerializerOptions), options, cancellationToken);
        return request.Task;
    }

    /// <inheritdoc />
    public async ValueTask<TResult?> RequestAsync<TRequest, TResult>(
        string service, TRequest data, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResult> resultType, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(requestType);
        ArgumentNullException.ThrowIfNull(resultType);
        var request = new TaskRequest<TResult>(service, ResolveTimeout(service, options), Serialization.Reader(resultType), Options.RunContinuationsInline, _lane);
        Send(request, Serialization.ToFrame(data, requestType), options, cancellationToken);
        return (await request.Task.ConfigureAwait(false)).Data;
    }

    /// <inheritdoc />
    public ValueTask<PigatoReply<ReadOnlyMemory<byte>>> RequestRawAsync(string service, ReadOnlyMemory<byte> data, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = new TaskRequest<ReadOnlyMemory<byte>>(service, ResolveTimeout(service, options), Serialization.Raw, Options.RunContinuationsInline, _lane);
        Send(request, data.ToArray(), options, cancellationToken);
        return new ValueTask<PigatoReply<ReadOnlyMemory<byte>>>(request.Task);
    }

    /// <inheritdoc />
    public IAsyncEnumerable<PigatoReply<TResult>> RequestStreamAsync<TResult>(string service, object? data, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var timeout = ResolveTimeout(service, options);
        var request = new StreamRequest<TResult>(service, timeout, Serialization.Reader<TResult>(Options.SerializerOptions), Options.MaxBufferedReplies)
        {
            SlowConsumer = r => Fail(r, new PigatoException(PigatoErrorCodes.SlowConsumer, $"The reader of the reply stream of '{r.Service}' fell {Options.MaxBufferedReplies} replies behind (ClientOptions.MaxBufferedReplies); the request was abandoned.")),
        };
        return StreamAsync(request, data, options, cancellationToken);
    }

    /// <inheritdoc />
    public string Request<TResult>(string service, object? data, Action<PigatoException?, TResult?>? onPartial, Action<PigatoException?, TResult?> onFinal, RequestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(onFinal);
        var request = new CallbackRequest<TResult>(service, ResolveTimeout(service, options), Serialization.Reader<TResult>(Options.SerializerOptions), onPartial, onFinal);
        var rid = request.Rid; // read before the loop may renew it (a retry resent after a reconnection)
        Send(request, Serialization.ToFrame(data, Options.SerializerOptions), options, CancellationToken.None);
        return rid;
    }

    /// <inheritdoc />
    public void SendRequestHeartbeat(string requestId)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        var loop = _loop ?? throw NotRunning();
        loop.Post(() =>
        {
            // To the broker holding it (with several, not just any), under its current id (a resend takes a new one).
            if (FindPending(requestId) is { Connection: { } connection } request && request.IsAt(connection))
            {
                connection.Send(request.RidFrame, static (w, r) => PigatoEncoder.ClientRequestHeartbeat(w, r));
            }
        });
    }

    /// <inheritdoc />
    public bool CancelRequest(string requestId)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        if (FindPending(requestId) is not { } request)
        {
            return false;
        }

        Cancel(request, new PigatoException(PigatoErrorCodes.Cancelled, $"Request {requestId} to '{request.Service}' was cancelled by the caller."));
        return true;
    }

    /// <summary>A pending request by the id <see cref="Request{TResult}"/> returned (its first, if it was sent again since).</summary>
    private PendingRequest? FindPending(string requestId)
    {
        var rid = Encoding.UTF8.GetBytes(requestId);
        if (_pending.TryGetValue(rid, out var request))
        {
            return request;
        }

        foreach (var candidate in _pending.Values)
        {
            if (candidate.FirstRid == requestId)
            {
                return candidate;
            }
        }

        return null;
    }

    private void CancelFromHandler(PendingRequest request) =>
        Cancel(request, new OperationCanceledException($"The request of the handler that made this request to '{request.Service}' was cancelled or ran out of time."));

    private static TimeSpan? Smaller(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a < b ? a : b;

    /// <summary>Why the client refuses a request locally (too large, too many pending), or null.</summary>
    private PigatoException? Refusal(PendingRequest request)
    {
        var frames = request.Frames!;
        var size = 2 + frames.Service.Length + request.RidFrame.Length + frames.Data.Length + frames.Options.Length;
        if (size > Options.MaxMessageSize)
        {
            return new PigatoException(PigatoErrorCodes.MessageTooLarge, $"Request to '{request.Service}' is {size} bytes; the client sends at most {Options.MaxMessageSize} (ClientOptions.MaxMessageSize).");
        }

        if (_pending.Count >= Options.MaxPendingRequests)
        {
            return new PigatoException(PigatoErrorCodes.ClientBusy, $"The client has {_pending.Count} requests pending (ClientOptions.MaxPendingRequests); request to '{request.Service}' refused.");
        }

        return null;
    }

    /// <summary>The service name as its frame, made once while callers keep asking the same service (never changed: shared).</summary>
    private byte[] ServiceFrame(string service)
    {
        if (_lastService is { } last && last.Name == service)
        {
            return last.Frame;
        }

        var made = new ServiceName(service, Encoding.UTF8.GetBytes(service));
        _lastService = made;
        return made.Frame;
    }

    private sealed record ServiceName(string Name, byte[] Frame);

    private static PigatoException NotRunning() => new(PigatoErrorCodes.NotRunning, "The client is not running: start it first.");

    private TimeSpan ResolveTimeout(string service, RequestOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        var timeout = options?.Timeout ?? Options.DefaultTimeout;
        RequestOptions.ValidateTimeout(timeout, nameof(RequestOptions.Timeout));
        return timeout;
    }

    private async IAsyncEnumerable<PigatoReply<TResult>> StreamAsync<TResult>(
        StreamRequest<TResult> request, object? data, RequestOptions? options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Send(request, Serialization.ToFrame(data, Options.SerializerOptions), options, cancellationToken);
        try
        {
            while (await request.Replies.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (request.Replies.TryRead(out var reply))
                {
                    yield return reply;
                }
            }
        }
        finally
        {
            // Left before the final reply: the broker and the worker are told (after the final reply, nothing happens).
            Cancel(request, new OperationCanceledException("The reply stream was abandoned."));
        }
    }

    /// <summary>
    /// The options frame for <paramref name="options"/> (whose timeout, <paramref name="timeout"/>, they decide): the last
    /// one made when they equal the last options (a record: by value), else a new one. Options with fields are written
    /// every time (the values of their dictionary may change between requests).
    /// </summary>
    private byte[] OptionsFrameFor(RequestOptions options, TimeSpan timeout)
    {
        if (Volatile.Read(ref _lastOptionsFrame) is { } last && last.Options == options)
        {
            return last.Frame;
        }

        var frame = options.ToJson(timeout, Options.SerializerOptions, Options.FailWithoutWorkers);
        if (options.Fields is null)
        {
            Volatile.Write(ref _lastOptionsFrame, new OptionsFrame(options, frame));
        }

        return frame;
    }

    /// <summary>An options frame, and the options it was written from.</summary>
    private sealed record OptionsFrame(RequestOptions Options, byte[] Frame);

    /// <summary>Registers the request and hands it to the loop; a client that is not running fails it at once.</summary>
    private void Send(PendingRequest request, byte[] dataFrame, RequestOptions? options, CancellationToken cancellationToken)
    {
        var optionsFrame = options is null || options == RequestOptions.Default
            ? _defaultOptionsFrame ??= RequestOptions.Default.ToJson(Options.DefaultTimeout, Options.SerializerOptions, Options.FailWithoutWorkers)
            : OptionsFrameFor(options, request.Timeout);
        if (Tracing.Source.HasListeners())
        {
            // The span covers the request until its final reply; it is not made current for the caller's own code.
            var caller = System.Diagnostics.Activity.Current;
            if (Tracing.Start("send", request.Service, System.Diagnostics.ActivityKind.Client, request.Rid) is { } activity)
            {
                System.Diagnostics.Activity.Current = caller;
                request.Activity = activity;
                optionsFrame = Tracing.Inject(optionsFrame, activity);
            }
        }

        request.Start(Options.TimeProvider);

        // A budget of its own, or what remains of the handler's request it is made from, whichever is smaller.
        var handlerRequest = HandlerContext.Current;
        if (Smaller(options?.Deadline, handlerRequest?.RemainingBudget) is { } budget)
        {
            request.SetBudget(budget);
            optionsFrame = JsonFrame.WithFields(optionsFrame, ("deadline", (long)budget.TotalMilliseconds));
        }

        request.Frames = new RequestFrames(ServiceFrame(request.Service), dataFrame, optionsFrame, options?.Retry ?? false, options?.Persist ?? false);
        if (Refusal(request) is { } refusal)
        {
            request.TryComplete();
            request.OnFailed(refusal);
            return;
        }

        if (_loop is not { } loop)
        {
            request.TryComplete();
            request.OnFailed(NotRunning());
            return;
        }

        _pending.Add(request);
        ActorMetrics.RequestSent(request.Service);
        if (cancellationToken.CanBeCanceled)
        {
            request.Cancellation = cancellationToken.Register(() => Cancel(request, new OperationCanceledException(cancellationToken)));
        }

        if (handlerRequest is not null)
        {
            // Made from a handler, it also ends when the handler's request does (cancelled by its caller, out of time).
            request.TieTo(handlerRequest, _cancelFromHandler);
        }

        try
        {
            // From the client's own thread (a callback, a continuation run there) it leaves at once, without a hop.
            loop.RunOrPost(_sendRequest, request);
        }
        catch (PigatoException e)
        {
            // Stopped in the meantime: the request fails now rather than never.
            Fail(request, e);
        }
    }
}
