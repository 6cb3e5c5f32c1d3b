using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

/// <summary>
/// A PIGATO worker: registers one service with a broker and runs a handler for each request it is given,
/// up to <see cref="Concurrency"/> at once.
/// </summary>
/// <remarks>
/// Handlers run on the thread pool; the socket is owned by one internal thread, where events run: keep
/// event handlers short. Public members are safe from any thread.
/// </remarks>
public sealed class Worker : IAsyncDisposable
{
    private static readonly byte[] NoOptions = "{}"u8.ToArray();
    private readonly Func<byte[], WorkerReply, JsonElement, ValueTask> _handler;
    private readonly ILogger _logger;
    private readonly string _prefix;
    private readonly byte[] _service;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly SemaphoreSlim _replyCredits;
    private readonly Dictionary<string, WorkerReply> _active = new(StringComparer.Ordinal);
    private readonly ReceivedFrames _frames = new(16);
    private ActorLoop? _loop;
    private DealerSocket? _socket;
    private SocketFrameWriter? _writer;
    private NetMQTimer? _reconnectTimer;
    private int _concurrency;
    private int _liveness;
    private int _generation;
    private int _running;
    private volatile bool _draining;
    private TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates a worker whose handler reads request data as a <see cref="JsonElement"/>.</summary>
    public Worker(WorkerOptions options, RequestHandler<JsonElement> handler)
        : this(options, Typed(handler, options))
    {
    }

    private Worker(WorkerOptions options, Func<byte[], WorkerReply, JsonElement, ValueTask> handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _handler = handler;
        _concurrency = options.Concurrency;
        _prefix = options.Prefix ?? "W" + Guid.NewGuid().ToString();
        _service = Encoding.UTF8.GetBytes(options.Service);
        _replyCredits = new SemaphoreSlim(options.MaxQueuedReplies, options.MaxQueuedReplies);
        _logger = options.LoggerFactory.CreateLogger<Worker>();
    }

    /// <summary>The options this worker runs with.</summary>
    public WorkerOptions Options { get; }

    /// <summary>The service this worker offers.</summary>
    public string Service => Options.Service;

    /// <summary>The current worker id (<c>prefix-uuid</c>, new at every reconnection), or null when stopped.</summary>
    public string? Id { get; private set; }

    /// <summary>True once the broker has answered since the last (re)connection.</summary>
    public bool IsConnected { get; private set; }

    /// <summary>Most requests handled at once (-1 = no limit); a change reaches the broker with the next heartbeat.</summary>
    public int Concurrency
    {
        get => Volatile.Read(ref _concurrency);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, -1);
            Volatile.Write(ref _concurrency, value);
        }
    }

    /// <summary>Raised when the worker has started.</summary>
    public event EventHandler? Started;

    /// <summary>Raised when the worker has stopped.</summary>
    public event EventHandler? Stopped;

    /// <summary>Raised on the first message from the broker after each (re)connection.</summary>
    public event EventHandler? Connected;

    /// <summary>Raised when the broker went silent or sent DISCONNECT; the worker reconnects.</summary>
    public event EventHandler? Disconnected;

    /// <summary>Raised on bad input from the broker, or a reply that could not be sent.</summary>
    public event EventHandler<PigatoErrorEventArgs>? Error;

    /// <summary>Creates a worker whose handler reads request data as <typeparamref name="TData"/> (System.Text.Json).</summary>
    public static Worker Create<TData>(WorkerOptions options, RequestHandler<TData> handler) => new(options, Typed(handler, options));

    /// <summary>Connects to the broker and registers the service.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loop is not null)
            {
                return;
            }

            var loop = new ActorLoop(e => RaiseError(PigatoErrorCodes.Internal, "Worker loop error: " + e.Message, e));
            var heartbeat = new NetMQTimer(Options.HeartbeatInterval);
            heartbeat.Elapsed += (_, _) => loop.Guard(OnHeartbeatTick);
            _reconnectTimer = new NetMQTimer(Options.ReconnectDelay < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : Options.ReconnectDelay) { Enable = false };
            _reconnectTimer.Elapsed += (_, _) => loop.Guard(() =>
            {
                _reconnectTimer.Enable = false;
                Connect();
            });
            loop.Add(heartbeat);
            loop.Add(_reconnectTimer);
            _loop = loop;
            await loop.StartAsync("Pigato.Worker").ConfigureAwait(false);
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

    /// <summary>
    /// Stops: drains for <see cref="WorkerOptions.ShutdownGracePeriod"/> (if any), then sends DISCONNECT and
    /// closes; requests still running then go inactive and their replies are dropped.
    /// </summary>
    /// <param name="cancellationToken">Cuts the grace period short.</param>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_loop is not { } loop)
            {
                return;
            }

            if (Options.ShutdownGracePeriod > TimeSpan.Zero)
            {
                await DrainAsync(loop, cancellationToken).ConfigureAwait(false);
            }

            await loop.InvokeAsync(() =>
            {
                if (_writer is not null)
                {
                    PigatoEncoder.WorkerDisconnect(_writer);
                    _writer.EndMessage();
                }

                CloseSocket();
                return true;
            }).ConfigureAwait(false);
            loop.Dispose();
            _loop = null;
            _draining = false;
            Id = null;
            Log.Stopped(_logger, "Worker " + Service);
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

    internal void SendHeartbeatSoon() => _loop?.Post(() => SendHeartbeat());

    /// <summary>Takes no more requests, lets the running ones finish within the grace period, rejects the rest.</summary>
    private async Task DrainAsync(ActorLoop loop, CancellationToken cancellationToken)
    {
        _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _draining = true;
        await loop.InvokeAsync(() =>
        {
            SendHeartbeat(); // concurrency 0: the broker dispatches nothing more here
            return true;
        }).ConfigureAwait(false);
        if (Volatile.Read(ref _running) == 0)
        {
            _drained.TrySetResult();
        }

        var running = Volatile.Read(ref _running);
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
                reply.TryReject();
            }

            return true;
        }).ConfigureAwait(false);
    }

    /// <summary>Core services only: a heartbeat with <c>update</c> makes the broker republish its directory.</summary>
    internal void RequestDirectoryUpdate() => _loop?.Post(() => SendHeartbeat(update: true));

    /// <summary>Queues a partial reply, waiting for room when <see cref="WorkerOptions.MaxQueuedReplies"/> are queued.</summary>
    internal async ValueTask QueueReplyAsync(WorkerReply reply, ReplyKind kind, byte[] data, CancellationToken cancellationToken)
    {
        await _replyCredits.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (_loop is not { } loop)
        {
            _replyCredits.Release();
            return;
        }

        loop.Post(() =>
        {
            _replyCredits.Release();
            SendReply(reply, kind, data);
        });
    }

    /// <summary>Queues an ending reply (final, error, reject): those never wait, so a request always ends.</summary>
    internal void QueueReply(WorkerReply reply, ReplyKind kind, byte[] data) => _loop?.Post(() => SendReply(reply, kind, data));

    private static Func<byte[], WorkerReply, JsonElement, ValueTask> Typed<TData>(RequestHandler<TData> handler, WorkerOptions options)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(options);
        return (data, reply, requestOptions) =>
        {
            TData? value;
            try
            {
                value = PigatoFrames.IsAbsent(data) ? default : JsonSerializer.Deserialize<TData>(data, options.SerializerOptions);
            }
            catch (JsonException e)
            {
                throw new PigatoException(PigatoErrorCodes.InvalidData, $"Request data is not a valid {typeof(TData).Name}.", e);
            }

            return handler(value, reply, requestOptions);
        };
    }

    private void Connect()
    {
        _generation++;
        Id = _prefix + "-" + Guid.NewGuid().ToString();
        var socket = new DealerSocket();
        socket.Options.Identity = Encoding.UTF8.GetBytes(Id);
        socket.Options.Linger = TimeSpan.FromMilliseconds(100);
        socket.ReceiveReady += (_, _) => OnSocketReady();
        socket.Connect(Options.Endpoint);
        _socket = socket;
        _writer = new SocketFrameWriter(socket, Options.HeartbeatInterval);
        _loop!.Add(socket);
        _liveness = Options.Liveness;
        IsConnected = false;
        PigatoEncoder.WorkerReady(_writer, _service, StatusJson());
        _writer.EndMessage();
    }

    private void CloseSocket()
    {
        foreach (var reply in _active.Values)
        {
            reply.Deactivate();
        }

        _active.Clear();
        if (_socket is null)
        {
            return;
        }

        _loop!.Remove(_socket);
        _socket.Dispose();
        _socket = null;
        _writer = null;
        if (IsConnected)
        {
            IsConnected = false;
            Disconnected?.Invoke(this, EventArgs.Empty);
        }
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
            Log.Connection(_logger, "Worker", Id!, "connected for service " + Service);
            Connected?.Invoke(this, EventArgs.Empty);
        }

        var decoded = PigatoDecoder.ForWorker(_frames);
        switch (decoded.Kind)
        {
            case PigatoMessageKind.Request:
                OnRequest();
                break;
            case PigatoMessageKind.RequestHeartbeat:
                if (_active.TryGetValue(Utf8.Decode(_frames[PigatoFrames.WorkerRequestHeartbeatRid]), out var reply))
                {
                    reply.Refresh(Options.Liveness);
                }

                break;
            case PigatoMessageKind.Disconnect:
                Log.Connection(_logger, "Worker", Id!, "DISCONNECT from broker; registering again");
                CloseSocket();
                Connect();
                break;
            case PigatoMessageKind.ReadyAnswer:
            case PigatoMessageKind.Heartbeat:
                break;
            default:
                RaiseError(decoded.Error!, "Malformed message from the broker ignored.");
                break;
        }
    }

    private void OnRequest()
    {
        var rid = _frames[PigatoFrames.WorkerRequestRid];
        var reply = new WorkerReply(
            this,
            Utf8.Decode(_frames[PigatoFrames.WorkerRequestService]),
            Utf8.Decode(rid),
            _frames[PigatoFrames.WorkerRequestClient].ToArray(),
            rid.ToArray(),
            _generation,
            Options.Liveness);
        _active[reply.RequestId] = reply;
        if (_draining)
        {
            reply.TryReject();
            return;
        }

        var data = _frames.Optional(PigatoFrames.WorkerRequestData).ToArray();
        var options = JsonFrame.Parse(_frames.Optional(PigatoFrames.WorkerRequestOptions), keepInvalidAsText: false);
        Interlocked.Increment(ref _running);
        _ = Task.Run(() => RunHandlerAsync(reply, data, options));
    }

    private async Task RunHandlerAsync(WorkerReply reply, byte[] data, JsonElement options)
    {
        try
        {
            await _handler(data, reply, options).ConfigureAwait(false);
            reply.TryEnd();
        }
        catch (PigatoException e)
        {
            reply.TryFail(e.Code);
        }
#pragma warning disable CA1031 // A handler's failure becomes an error reply, never a crash.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.HandlerFailed(_logger, Service, reply.RequestId, e);
            reply.TryFail(PigatoErrorCodes.HandlerFailed);
        }
        finally
        {
            if (Interlocked.Decrement(ref _running) == 0 && _draining)
            {
                _drained.TrySetResult();
            }
        }
    }

    private void SendReply(WorkerReply reply, ReplyKind kind, byte[] data)
    {
        if (kind != ReplyKind.Partial)
        {
            _active.Remove(reply.RequestId);
        }

        if (reply.Generation != _generation || _writer is null)
        {
            // The broker no longer knows this request (it was retried or failed when this worker left).
            Log.Request(_logger, reply.RequestId, reply.Service, "reply dropped: connection to the broker was lost meanwhile");
            return;
        }

        switch (kind)
        {
            case ReplyKind.Partial:
            case ReplyKind.Final:
                PigatoEncoder.WorkerReply(_writer, kind == ReplyKind.Final, reply.ClientId, reply.Rid, PigatoFrames.StatusOk, data, NoOptions);
                break;
            case ReplyKind.Error:
                PigatoEncoder.WorkerReply(_writer, final: true, reply.ClientId, reply.Rid, PigatoFrames.StatusError, data, NoOptions);
                break;
            default:
                PigatoEncoder.WorkerReject(_writer, reply.ClientId, reply.Rid, data);
                break;
        }

        if (!_writer.EndMessage())
        {
            RaiseError(PigatoErrorCodes.Unroutable, $"Reply to request {reply.RequestId} could not be queued towards the broker.");
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
            Log.Connection(_logger, "Worker", Id!, "broker silent; reconnecting");
            PigatoEncoder.WorkerDisconnect(_writer!);
            _writer!.EndMessage();
            CloseSocket();
            _reconnectTimer!.EnableAndReset();
            return;
        }

        SendHeartbeat();
        foreach (var reply in _active.Values)
        {
            reply.Tick();
        }
    }

    private void SendHeartbeat(bool update = false)
    {
        if (_writer is not null)
        {
            PigatoEncoder.WorkerHeartbeat(_writer, StatusJson(update));
            _writer.EndMessage();
        }
    }

    /// <summary>The status frame: <c>{"concurrency":n}</c> (0 while draining), with <c>"update":true</c> when a core service asks for the directory.</summary>
    private byte[] StatusJson(bool update = false) =>
        Encoding.UTF8.GetBytes($"{{\"concurrency\":{(_draining ? 0 : Concurrency)}{(update ? ",\"update\":true" : "")}}}");

    private void RaiseError(string code, string message, Exception? exception = null)
    {
        Log.PeerError(_logger, code, Id, message, exception);
        Error?.Invoke(this, new PigatoErrorEventArgs(code, message, Id, exception));
    }
}
