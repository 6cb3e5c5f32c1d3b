using Microsoft.Extensions.Logging;
using Pigato.Internal;

namespace Pigato;

/// <summary>
/// A PIGATO client: sends requests to services through a broker and receives their partial and final replies.
/// </summary>
/// <remarks>
/// Every public member is safe from any thread and any number of requests may be pending at once.
/// The socket is owned by one internal thread; events and reply callbacks run on it: keep them short.
/// </remarks>
public sealed partial class Client : IPigatoClient
{
    private static readonly TimeSpan TimeoutResolution = TimeSpan.FromMilliseconds(25);

    private readonly ILogger _logger;
    private readonly ConnectionSettings _connectionSettings;
    private readonly ActorLifecycle _lifecycle = new(nameof(Client));

    /// <summary>Started, then Connected, whichever thread comes first.</summary>
    private readonly StartedBeforeConnected _events = new();
    private readonly PendingTable _pending = new();
    private readonly BrokerConnections _connections = [];

    /// <summary><see cref="SendRequest"/> as a loop command taking the request as its state: posting it allocates nothing.</summary>
    private readonly Action<object?> _sendRequest;
    private readonly Action<object?> _tellCancelled;
    private readonly Action<PendingRequest> _cancelFromHandler;
    private ActorLoop? _loop;

    /// <summary>Where awaiting callers continue (unless <see cref="ClientOptions.RunContinuationsInline"/>); from start to stop.</summary>
    private HandOffLane? _lane;
    private volatile bool _stopping;

    /// <summary>Creates a client; it does nothing until <see cref="StartAsync"/>.</summary>
    public Client(ClientOptions? options = null)
    {
        Options = options ?? ClientOptions.Default;
        Options.Validate();
        _sendRequest = request => SendRequest((PendingRequest)request!);
        _tellCancelled = request => TellCancelled((PendingRequest)request!);
        _cancelFromHandler = CancelFromHandler;
        _logger = Options.LoggerFactory.CreateLogger<Client>();
        _connectionSettings = new ConnectionSettings(
            nameof(Client),
            Options.Prefix ?? "C" + Guid.NewGuid().ToString(),
            Options.Liveness,
            Options.ReconnectDelay,
            SendHighWatermark: Options.MaxPendingRequests + 1000,
            Linger: TimeSpan.Zero,
            MaxMessageSize: Options.MaxMessageSize,
            DetectDisconnect: Options.DetectDisconnect ?? (Options.Brokers.Count > 1 || BrokerDiscovery.Resolves(Options.Brokers)),
            CurveServerKey: Options.CurveServerKey,
            Side: ConnectionSide.Client,
            Framing: Options.Framing,
            Transport: Options.Transport,
            Brokers: Options.Brokers,
            DnsServer: Options.DnsServer,
            DnsRefreshInterval: Options.DnsRefreshInterval);
    }

    /// <summary>The options this client runs with.</summary>
    public ClientOptions Options { get; }

    /// <inheritdoc />
    public string? Id { get; private set; }

    /// <inheritdoc />
    public bool IsConnected { get; private set; }

    /// <inheritdoc />
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
        _events.Reset();
        await _lifecycle.StartAsync(StartCoreAsync, ReleaseAsync, cancellationToken).ConfigureAwait(false);
        _events.Started(() => Started?.Invoke(this, EventArgs.Empty), () => Connected?.Invoke(this, EventArgs.Empty));
    }

    /// <summary>Disconnects; every pending request fails with <c>ERR_CLIENT_STOPPED</c>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (await _lifecycle.StopAsync(() => StopCoreAsync()).ConfigureAwait(false))
        {
            Stopped?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _lifecycle.DisposeAsync(StopCoreAsync);

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        _stopping = false;
        var loop = _loop = new ActorLoop(nameof(Client), e => RaiseError(PigatoErrorCodes.Internal, "Client loop error: " + e.Message, e), Internal.Links.BrokerLinks.NeedNetMq(_connectionSettings));
        _lane = Options.RunContinuationsInline ? null : new HandOffLane("Pigato.Client continuations", () => _pending.Count == 0, loop);
        loop.UserCodeHeld = (held, cooldown) => Log.UserCodeHeldLoop(_logger, nameof(Client), held, cooldown);
        loop.AfterEach = _connections.Flush;
        loop.Timer(Options.HeartbeatInterval, OnHeartbeatTick);
        loop.Timer(TimeoutResolution, ExpireRequests);
        await _connections.StartAsync(loop, _connectionSettings, this, _logger, e => RaiseError(e.Code, e.Message, e), cancellationToken).ConfigureAwait(false);
    }

    private async Task StopCoreAsync()
    {
        _stopping = true;
        await _connections.StopAsync(_loop).ConfigureAwait(false);
        await ReleaseAsync().ConfigureAwait(false);
        var stopped = new PigatoException(PigatoErrorCodes.ClientStopped, "The client stopped before the request ended.");
        foreach (var request in _pending.Values)
        {
            Fail(request, stopped);
        }
    }

    /// <summary>Closes whatever a start made (also after a failed start).</summary>
    private Task ReleaseAsync()
    {
        _connections.Release(_loop);
        _loop = null;
        _lane?.Dispose(); // what ends after this (requests failed by the stop) continues on the thread pool
        _lane = null;
        Id = null;
        IsConnected = false;
        return Task.CompletedTask;
    }

    private void RaiseError(string code, string message, Exception? exception = null)
    {
        Log.PeerError(_logger, code, Id, message, exception);
        Error?.Invoke(this, new PigatoErrorEventArgs(code, message, Id, exception));
    }
}
