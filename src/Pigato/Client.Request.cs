using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

public sealed partial class Client
{
    private readonly List<Action> _waitingForSocket = [];
    private byte[]? _defaultOptionsFrame;

    /// <summary>Sends a request and returns its final reply's data; partial replies are ignored.</summary>
    /// <typeparam name="TResult">The type the final reply's JSON data is read as.</typeparam>
    /// <param name="service">The service name (exact, or matched by a worker's wildcard or semver range).</param>
    /// <param name="data">The request data, sent as JSON (null is sent as <c>null</c>).</param>
    /// <param name="options">Request options; null for the client's defaults.</param>
    /// <param name="cancellationToken">Stops waiting (the worker then sees the request go inactive).</param>
    /// <exception cref="PigatoTimeoutException">No reply within the timeout (C_TIMEOUT).</exception>
    /// <exception cref="PigatoReplyException">The worker answered with an error.</exception>
    public async ValueTask<TResult?> RequestAsync<TResult>(string service, object? data, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var request = new TaskRequest<TResult>(service, ResolveTimeout(service, options), Options.SerializerOptions);
        Send(request, data, options, cancellationToken);
        return await request.Task.ConfigureAwait(false);
    }

    /// <summary>Sends a request when enumeration starts and yields each partial reply, then the final one.</summary>
    /// <remarks>An error reply, a timeout or a stop ends the enumeration with the matching exception. Leaving the loop early abandons the request.</remarks>
    public IAsyncEnumerable<PigatoReply<TResult>> RequestStreamAsync<TResult>(string service, object? data, RequestOptions? options = null, CancellationToken cancellationToken = default)
    {
        var timeout = ResolveTimeout(service, options);
        return StreamAsync<TResult>(service, data, options, timeout, cancellationToken);
    }

    /// <summary>Sends a request with callbacks, as the original does: <c>(error, data)</c> for each partial and once at the end.</summary>
    /// <returns>The request id, for <see cref="SendRequestHeartbeat"/>.</returns>
    /// <remarks>Callbacks run on the client's thread, in order; the final one also receives timeouts and stops as errors.</remarks>
    public string Request<TResult>(string service, object? data, Action<PigatoException?, TResult?>? onPartial, Action<PigatoException?, TResult?> onFinal, RequestOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(onFinal);
        var request = new CallbackRequest<TResult>(service, ResolveTimeout(service, options), Options.SerializerOptions, onPartial, onFinal);
        Send(request, data, options, CancellationToken.None);
        return request.Rid;
    }

    /// <summary>Tells the worker handling <paramref name="requestId"/> that the client still wants it (keeps its reply active).</summary>
    public void SendRequestHeartbeat(string requestId)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        var loop = _loop ?? throw new InvalidOperationException("The client is not started.");
        var rid = Encoding.UTF8.GetBytes(requestId);
        loop.Post(() =>
        {
            if (_writer is not null)
            {
                PigatoEncoder.ClientRequestHeartbeat(_writer, rid);
                _writer.EndMessage();
            }
        });
    }

    private TimeSpan ResolveTimeout(string service, RequestOptions? options)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        var timeout = options?.Timeout ?? Options.DefaultTimeout;
        RequestOptions.ValidateTimeout(timeout, nameof(RequestOptions.Timeout));
        return timeout;
    }

    private async IAsyncEnumerable<PigatoReply<TResult>> StreamAsync<TResult>(
        string service, object? data, RequestOptions? options, TimeSpan timeout, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new StreamRequest<TResult>(service, timeout, Options.SerializerOptions);
        Send(request, data, options, cancellationToken);
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
            Fail(request, new OperationCanceledException("The reply stream was abandoned."));
        }
    }

    private void Send(PendingRequest request, object? data, RequestOptions? options, CancellationToken cancellationToken)
    {
        var loop = _loop ?? throw new InvalidOperationException("The client is not started.");
        var json = Options.SerializerOptions;
        var dataFrame = JsonSerializer.SerializeToUtf8Bytes(data, data?.GetType() ?? typeof(object), json);
        var optionsFrame = options is null || options == RequestOptions.Default
            ? _defaultOptionsFrame ??= RequestOptions.Default.ToJson(Options.DefaultTimeout, json)
            : options.ToJson(request.Timeout, json);
        request.Frames = new RequestFrames(Encoding.UTF8.GetBytes(request.Service), dataFrame, optionsFrame, options?.Retry ?? false);
        _pending[request.Rid] = request;
        if (cancellationToken.CanBeCanceled)
        {
            request.Cancellation = cancellationToken.Register(() => Fail(request, new OperationCanceledException(cancellationToken)));
        }

        loop.Post(() => SendRequest(request));
    }

    private void SendRequest(PendingRequest request)
    {
        if (request.IsCompleted)
        {
            return;
        }

        if (_writer is null)
        {
            // Reconnecting: send once the new socket exists.
            _waitingForSocket.Add(() => SendRequest(request));
            return;
        }

        var frames = request.Frames!;
        PigatoEncoder.ClientRequest(_writer, frames.Service, request.RidFrame, frames.Data, frames.Options);
        if (!_writer.EndMessage())
        {
            Fail(request, new PigatoException(PigatoErrorCodes.Unroutable, $"Request to '{request.Service}' could not be queued towards the broker."));
            return;
        }

        request.SentOn = _connection;
        request.Touch();
        _nextDeadline = Math.Min(_nextDeadline, request.Deadline);
    }

    /// <summary>
    /// The connection closed with requests sent on it: their replies would go to an identity that no longer
    /// exists. A <c>retry</c> request is sent again under a new id (it may then run twice, as retry allows);
    /// any other fails at once with <c>ERR_CLIENT_RECONNECTED</c> instead of waiting for its timeout.
    /// </summary>
    private void ResendOrFailSentRequests(int closedConnection)
    {
        foreach (var request in _pending.Values)
        {
            if (request.SentOn != closedConnection)
            {
                continue;
            }

            if (!request.Frames!.Retry)
            {
                Fail(request, new PigatoException(PigatoErrorCodes.ClientReconnected, $"The connection to the broker was lost while request to '{request.Service}' was pending."));
            }
            else if (_pending.TryRemove(request.Rid, out _))
            {
                request.RenewRid();
                request.SentOn = 0;
                _pending[request.Rid] = request;
                if (request.IsCompleted)
                {
                    // Cancelled meanwhile, under the old id: do not leave the new id behind.
                    _pending.TryRemove(request.Rid, out _);
                    continue;
                }

                SendRequest(request);
            }
        }
    }

    private void SendWaitingRequests()
    {
        var waiting = _waitingForSocket.ToArray();
        _waitingForSocket.Clear();
        foreach (var send in waiting)
        {
            send();
        }
    }
}
