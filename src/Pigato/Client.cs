using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

/// <summary>
/// A PIGATO client: sends requests to services through a broker and receives their partial and final replies.
/// </summary>
/// <remarks>
/// Every public member is safe from any thread and any number of requests may be pending at once.
/// The socket is owned by one internal thread; events and reply callbacks run on it: keep them short.
/// </remarks>
public sealed partial class Client : IAsyncDisposable
{
    private static readonly TimeSpan TimeoutResolution = TimeSpan.FromMilliseconds(25);

    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly ConcurrentDictionary<string, PendingRequest> _pending = new(StringComparer.Ordinal);
    private readonly ReceivedFrames _frames = new(16);
    private ActorLoop? _loop;
    private DealerSocket? _socket;
    private SocketFrameWriter? _writer;
    private NetMQTimer? _reconnectTimer;
    private int _liveness;
    private int _connection;
    private long _nextDeadline = long.MaxValue;

    /// <summary>Creates a client; it does nothing until <see cref="StartAsync"/>.</summary>
    public Client(ClientOptions? options = null)
    {
        Options = options ?? new ClientOptions();
        Options.Validate();
        _prefix = Options.Prefix ?? "C" + Guid.NewGuid().ToString();
        _logger = Options.LoggerFactory.CreateLogger<Client>();
    }

    /// <summary>The options this client runs with.</summary>
    public ClientOptions Options { get; }

    /// <summary>The current socket identity (<c>prefix-uuid</c>, new at every reconnect), or null when stopped.</summary>
    public string? Id { get; private set; }

    /// <summary>True once the broker has answered since the last (re)connection.</summary>
    public bool IsConnected { get; private set; }

    /// <summary>How many requests are waiting for their final reply.</summary>
    public int PendingCount => _pending.Count;

    /// <summary>Raised when the client has started.</summary>
    public event EventHandler? Started;

    /// <summary>Raised when the client has stopped.</summary>
    public event EventHandler? Stopped;

    /// <summary>Raised on the first message from the broker after each (re)connection.</summary>
    public event EventHandler? Connected;

    /// <summary>Raised when the broker went silent for <see cref="ClientOptions.Liveness"/> periods; the client reconnects.</summary>
    public event EventHandler? Disconnected;

    /// <summary>Raised on bad input from the broker (ERR_MSG_HEADER, ERR_MSG_LENGTH, ERR_REQ_INVALID, ERR_MSG_TYPE) or an undeliverable request.</summary>
    public event EventHandler<PigatoErrorEventArgs>? Error;

    /// <summary>Connects to the broker and starts heartbeating.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loop is not null)
            {
                return;
            }

            var loop = new ActorLoop(e => RaiseError(PigatoErrorCodes.Internal, "Client loop error: " + e.Message, e));
            var heartbeat = new NetMQTimer(Options.HeartbeatInterval);
            heartbeat.Elapsed += (_, _) => loop.Guard(OnHeartbeatTick);
            var timeouts = new NetMQTimer(TimeoutResolution);
            timeouts.Elapsed += (_, _) => loop.Guard(ExpireRequests);
            _reconnectTimer = new NetMQTimer(Options.ReconnectDelay < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : Options.ReconnectDelay) { Enable = false };
            _reconnectTimer.Elapsed += (_, _) => loop.Guard(() =>
            {
                _reconnectTimer.Enable = false;
                Connect();
            });
            loop.Add(heartbeat);
            loop.Add(timeouts);
            loop.Add(_reconnectTimer);
            _loop = loop;
            await loop.StartAsync("Pigato.Client").ConfigureAwait(false);
            await loop.InvokeAsync(() =>
            {
                Connect();
                return true;
            }).ConfigureAwait(false);
            Started?.Invoke(this, EventArgs.Empty);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Disconnects; every pending request fails with <c>ERR_CLIENT_STOPPED</c>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loop is not { } loop)
            {
                return;
            }

            await loop.InvokeAsync(() =>
            {
                CloseSocket();
                return true;
            }).ConfigureAwait(false);
            loop.Dispose();
            _loop = null;
            foreach (var request in _pending.Values)
            {
                Fail(request, new PigatoException(PigatoErrorCodes.ClientStopped, $"The client stopped before request to '{request.Service}' ended."));
            }

            Id = null;
            Stopped?.Invoke(this, EventArgs.Empty);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _frames.Dispose();
        _lifecycle.Dispose();
    }

    private void Connect()
    {
        _connection++;
        Id = _prefix + "-" + Guid.NewGuid().ToString();
        var socket = new DealerSocket();
        socket.Options.Identity = Encoding.UTF8.GetBytes(Id);
        socket.Options.Linger = TimeSpan.Zero;
        socket.Options.SendHighWatermark = 0;
        socket.ReceiveReady += (_, _) => OnSocketReady();
        socket.Connect(Options.Endpoint);
        _socket = socket;
        _writer = new SocketFrameWriter(socket, Options.HeartbeatInterval);
        _loop!.Add(socket);
        _liveness = Options.Liveness;
        IsConnected = false;
        PigatoEncoder.ClientHeartbeat(_writer);
        _writer.EndMessage();
        SendWaitingRequests();
    }

    private void CloseSocket()
    {
        if (_socket is null)
        {
            return;
        }

        _loop!.Remove(_socket);
        _socket.Dispose();
        _socket = null;
        _writer = null;
        IsConnected = false;
    }

    private void OnSocketReady()
    {
        for (var i = 0; i < 4096 && _socket is not null && _frames.TryReceive(_socket); i++)
        {
            _loop!.Guard(HandleMessage);
            _frames.Clear();
        }
    }

    private void HandleMessage()
    {
        _liveness = Options.Liveness;
        if (!IsConnected)
        {
            IsConnected = true;
            Log.Connection(_logger, "Client", Id!, "connected");
            Connected?.Invoke(this, EventArgs.Empty);
        }

        var decoded = PigatoDecoder.ForClient(_frames);
        if (!decoded.IsValid || _frames.Truncated)
        {
            RaiseError(decoded.Error ?? PigatoErrorCodes.MessageLength, "Malformed message from the broker ignored.");
            return;
        }

        if (decoded.Kind == PigatoMessageKind.Heartbeat)
        {
            return;
        }

        var rid = Utf8.Decode(_frames[PigatoFrames.ClientReplyRid]);
        if (!_pending.TryGetValue(rid, out var request))
        {
            RaiseError(PigatoErrorCodes.RequestInvalid, $"Reply for request {rid}, which is not pending.");
            return;
        }

        var status = _frames[PigatoFrames.ClientReplyStatus];
        var data = _frames.Optional(PigatoFrames.ClientReplyData);
        request.Touch();
        if (decoded.Kind == PigatoMessageKind.PartialReply)
        {
            request.OnPartial(status, data);
        }
        else if (request.TryComplete())
        {
            _pending.TryRemove(rid, out _);
            request.OnFinal(status, data);
        }
    }

    private void OnHeartbeatTick()
    {
        if (_socket is null)
        {
            return;
        }
        if (--_liveness <= 0)
        {
            Log.Connection(_logger, "Client", Id!, "broker silent; reconnecting");
            var wasConnected = IsConnected;
            CloseSocket();
            ResendOrFailSentRequests(_connection);
            _reconnectTimer!.EnableAndReset();
            if (wasConnected)
            {
                Disconnected?.Invoke(this, EventArgs.Empty);
            }

            return;
        }

        PigatoEncoder.ClientHeartbeat(_writer!);
        _writer!.EndMessage();
        if (Options.HeartbeatRequests)
        {
            var threshold = Stopwatch.GetTimestamp() - (long)(Options.HeartbeatInterval.TotalSeconds * Stopwatch.Frequency);
            foreach (var request in _pending.Values)
            {
                if (request.SentAt < threshold)
                {
                    PigatoEncoder.ClientRequestHeartbeat(_writer, request.RidFrame);
                    _writer.EndMessage();
                }
            }
        }
    }

    /// <summary>Fails with C_TIMEOUT every request whose time without activity has passed its timeout.</summary>
    private void ExpireRequests()
    {
        var now = Stopwatch.GetTimestamp();
        if (now < _nextDeadline)
        {
            return;
        }

        var next = long.MaxValue;
        foreach (var request in _pending.Values)
        {
            var deadline = request.Deadline;
            if (deadline <= now)
            {
                Fail(request, new PigatoTimeoutException(request.Service, request.Timeout));
            }
            else
            {
                next = Math.Min(next, deadline);
            }
        }

        _nextDeadline = next;
    }

    private void Fail(PendingRequest request, Exception exception)
    {
        if (request.TryComplete())
        {
            _pending.TryRemove(request.Rid, out _);
            request.OnFailed(exception);
        }
    }

    private void RaiseError(string code, string message, Exception? exception = null)
    {
        Log.PeerError(_logger, code, Id, message, exception);
        Error?.Invoke(this, new PigatoErrorEventArgs(code, message, Id, exception));
    }
}
