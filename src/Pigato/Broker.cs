using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using Pigato.Internal;
using Pigato.Internal.Links;
using Pigato.Internal.Links.Curve;
using Pigato.Routing;

namespace Pigato;

/// <summary>
/// The PIGATO broker: queues requests per service and routes them to workers, relaying their replies.
/// </summary>
/// <remarks>
/// All state lives on one thread that owns the sockets; public members are safe from any thread.
/// Event handlers run on that thread: keep them short. Metrics are published on the <c>Pigato</c> meter
/// (see <see cref="MeterName"/>).
/// </remarks>
public sealed class Broker : IAsyncDisposable
{
    private static readonly TimeSpan ShutdownQuietPeriod = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ShutdownDrainLimit = TimeSpan.FromMilliseconds(500);

    private readonly ILogger _logger;
    private readonly Routing.ErrorLog _errorLog;
    private readonly ActorLifecycle _lifecycle = new(nameof(Broker));
    private ActorLoop? _loop;
    private IRouterLink? _router;
    private PublisherSocket? _publisher;
    private BrokerTransport? _transport;
    private BrokerCore? _core;
    private BrokerMetrics? _metrics;
    private Persistence.StoreWriter? _store;

    /// <summary>The last snapshot taken at a heartbeat tick, for the metric gauges (read from other threads).</summary>
    private BrokerStats _tickStats = BrokerStats.Empty;

    /// <summary>Creates a broker; it does nothing until <see cref="StartAsync"/>.</summary>
    public Broker(BrokerOptions? options = null)
    {
        Options = options ?? BrokerOptions.Default;
        Options.Validate();
        Name = Options.Name ?? "B" + Guid.NewGuid().ToString("N");
        _logger = Options.LoggerFactory.CreateLogger<Broker>();
        _errorLog = new Routing.ErrorLog(_logger, Options.TimeProvider);
    }

    /// <summary>The name of the System.Diagnostics.Metrics meter the broker reports on: request counters by outcome, worker and request gauges.</summary>
    public const string MeterName = BrokerMetrics.MeterName;

    /// <summary>
    /// The core service the broker answers itself: each worker's statistics (requests, errors, processing time, last
    /// error). Data: a service name (its workers, an array) or nothing (every worker, by service).
    /// </summary>
    public const string StatsServiceName = BrokerCore.StatsService;

    /// <summary>
    /// The name of the System.Diagnostics activity source of Pigato's spans (client <c>send</c>, broker <c>receive</c>,
    /// worker <c>process</c>; <c>AddSource("Pigato")</c> in OpenTelemetry). Nothing is recorded while nobody listens.
    /// </summary>
    public const string ActivitySourceName = Tracing.SourceName;

    /// <summary>The options this broker runs with.</summary>
    public BrokerOptions Options { get; }

    /// <summary>The broker's socket identity.</summary>
    public string Name { get; }

    /// <summary>The endpoint actually bound (an ephemeral port resolved), or null when not running.</summary>
    public string? Endpoint { get; private set; }

    /// <summary>The internal PUB channel actually bound, or null when not running or turned off.</summary>
    public string? InternalEndpoint { get; private set; }

    /// <summary>True between <see cref="StartAsync"/> and <see cref="StopAsync"/>.</summary>
    public bool IsRunning => _lifecycle.IsRunning;

    /// <summary>Raised once the broker is bound and running.</summary>
    public event EventHandler? Started;

    /// <summary>Raised once the broker has stopped.</summary>
    public event EventHandler? Stopped;

    /// <summary>Raised when a peer sends bad input or a message cannot be delivered; the broker keeps running.</summary>
    public event EventHandler<PigatoErrorEventArgs>? Error;

    /// <summary>Binds the sockets and starts routing.</summary>
    /// <exception cref="PigatoException">An endpoint cannot be bound (code <c>ERR_BIND</c>).</exception>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.StartAsync(StartCoreAsync, ReleaseAsync, cancellationToken).ConfigureAwait(false);
        Started?.Invoke(this, EventArgs.Empty);
    }

    /// <summary>
    /// Stops routing: every request still held gets an error reply (<c>ERR_BROKER_STOPPED</c>), every worker a
    /// DISCONNECT, then the sockets close.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (await _lifecycle.StopAsync(() => StopCoreAsync(cancellationToken)).ConfigureAwait(false))
        {
            Stopped?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <summary>A consistent snapshot of what the broker holds, taken on its thread.</summary>
    /// <exception cref="PigatoException">The broker is not running (<c>ERR_NOT_RUNNING</c>).</exception>
    public Task<BrokerStats> GetStatsAsync(CancellationToken cancellationToken = default)
    {
        if (_loop is not { } loop || _core is not { } core)
        {
            return Task.FromException<BrokerStats>(new PigatoException(PigatoErrorCodes.NotRunning, "The broker is not running."));
        }

        return loop.InvokeAsync(core.Stats).WaitAsync(cancellationToken);
    }

    /// <summary>
    /// What the broker holds and has done (services, workers with their statistics, clients, counters, request
    /// durations), taken on its thread; each list holds at most <paramref name="maxEntries"/>, the busiest first.
    /// </summary>
    /// <exception cref="PigatoException">The broker is not running (<c>ERR_NOT_RUNNING</c>).</exception>
    public Task<Monitoring.BrokerSnapshot> GetSnapshotAsync(int maxEntries = 1000, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxEntries);
        if (_loop is not { } loop || _core is not { } core)
        {
            return Task.FromException<Monitoring.BrokerSnapshot>(new PigatoException(PigatoErrorCodes.NotRunning, "The broker is not running."));
        }

        return loop.InvokeAsync(() => core.Snapshot(Name, maxEntries)).WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _lifecycle.DisposeAsync(() => StopCoreAsync(CancellationToken.None));

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        // The store first: a corrupt or unreachable one stops the start with its own error, before any port is bound.
        var store = Options.Store is { } spec ? spec.Create(new Persistence.RequestStoreContext { BrokerName = Name, Lease = Options.StoreLease }) : null;
        IReadOnlyList<Persistence.StoredRequest> stored;
        try
        {
            stored = store?.Open() ?? [];
        }
        catch
        {
            store?.Dispose();
            throw;
        }

        // NetMQ's ROUTER, when it serves the endpoint, needs NetMQ's poller; the directory's PUB socket only sends.
        var ownTransport = Options.Transport == ConnectionTransport.Auto && Internal.Links.ZmtpRouter.CanBind(Options.Endpoint);
        var loop = _loop = new ActorLoop(nameof(Broker), e => ReportError(PigatoErrorCodes.Internal, "Broker loop error: " + e.Message, null, e), withNetMq: !ownTransport);
        _store = store is null ? null : new Persistence.StoreWriter(store, loop.Post, OnTakenOver, removed => _core?.RemovalsDurable(removed), (code, message) => ReportError(code, message, null));
        BrokerTransport? receiver = null;
        _router = OpenRouter(loop, () => receiver!.ReceiveWaiting(), ownTransport);
        if (Options.InternalEndpoint is { Length: > 0 } intch)
        {
            _publisher = SocketFactory.Publisher(Options.CurveSecretKey);
            Bind(_publisher, nameof(BrokerOptions.InternalEndpoint), intch);
        }

        Endpoint = _router.Endpoint;
        InternalEndpoint = _publisher?.Options.LastEndpoint;
        _metrics = new BrokerMetrics(Name, () => Volatile.Read(ref _tickStats));
        var permissions = Options.PermissionsFile is { } file ? new Security.PermissionsWatch(file) : null;
        var coreOptions = permissions is null ? Options : Options with { Permissions = permissions.Current };
        var metrics = _metrics;
        var journal = _store;
        var transport = _transport = receiver = new BrokerTransport(_router, _publisher, Options, ReportError, output => new BrokerCore(coreOptions, output, Options.TimeProvider, _logger, metrics, journal: journal));
        var core = _core = transport.Core;
        if (_store is not null)
        {
            var restored = core.Restore(stored);
            _metrics.Restored(restored, takenOver: false);
            Log.StoreOpened(_logger, store!.Description, restored);
        }

        // After every callback of the loop: the v2 messages it made leave in one frame per peer, then what it made
        // durable or ended is written in one transaction.
        var writer = _store;
        loop.AfterEach = writer is null ? transport.SendBatches : () =>
        {
            transport.SendBatches();
            writer.Commit();
        };

        if (_router is NetMqRouterLink netmq)
        {
            netmq.Socket.ReceiveReady += (_, _) => loop.Guard(transport.ReceiveWaiting);
            loop.Add(netmq.Socket);
        }
        var trim = Options.TrimMemory ? new MemoryTrim() : null;
        loop.Timer(Options.HeartbeatInterval, () =>
        {
            if (permissions?.Reload(_logger) is { } changed)
            {
                core.SetPermissions(changed);
            }

            core.Tick();
            var stats = core.Stats();
            Volatile.Write(ref _tickStats, stats);
            trim?.AfterTick(stats.HeldBytes);
        });

        // Messages waiting for peers whose pipes were full go out as soon as there is room.
        transport.DrainTimer = loop.Timer(TimeSpan.FromMilliseconds(5), transport.SendQueued, enabled: false);

        // Directory changes are published at most this often, however many workers come and go meanwhile.
        loop.Timer(Routing.BrokerDirectory.Period, core.PublishDirectoryIfChanged);
        await loop.StartAsync().ConfigureAwait(false);

        Log.Started(_logger, Name, Endpoint, InternalEndpoint);
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        var transport = _transport!;
        var core = _core!;
        await _loop!.InvokeAsync(() =>
        {
            // Replies already on their way (a worker that drained just before) still reach their clients.
            transport.Drain(ShutdownDrainLimit, ShutdownQuietPeriod);
            core.Shutdown();
            transport.SendBatches(); // now: the socket closes as soon as this returns
        }).WaitAsync(cancellationToken).ConfigureAwait(false);
        await ReleaseAsync().ConfigureAwait(false);
        Log.Stopped(_logger, Name);
    }

    /// <summary>Requests of a dead broker taken over from the shared store: queued here (loop thread).</summary>
    private void OnTakenOver(IReadOnlyList<Persistence.StoredRequest> taken)
    {
        if (_core is { } core)
        {
            var count = core.Restore(taken);
            _metrics?.Restored(count, takenOver: true);
            Log.StoreTakenOver(_logger, Options.Store!.Description, taken.Count, count);
        }
    }

    /// <summary>Closes whatever a start made (also after a failed start).</summary>
    private async Task ReleaseAsync()
    {
        _loop?.Dispose();
        _store?.Dispose();
        _router?.Dispose();
        _publisher?.Dispose();
        _transport?.Dispose();
        _metrics?.Dispose();
        (_loop, _router, _publisher, _transport, _core, _metrics, _store) = (null, null, null, null, null, null, null);
        Endpoint = null;
        InternalEndpoint = null;
    }

    /// <summary>
    /// The broker's connections: Pigato's own ZMTP (plain or CURVE) for a <c>tcp://</c> endpoint unless NetMQ was asked
    /// for (<see cref="BrokerOptions.Transport"/>); NetMQ's ROUTER for every other endpoint. A failure to bind names the address.
    /// </summary>
    private IRouterLink OpenRouter(ActorLoop loop, Action received, bool ownTransport)
    {
        try
        {
            var zmtp = new ZmtpSettings(
                "ROUTER",
                identity: null,
                (long)Options.MaxMessageSize + SocketFactory.TransportSlack,
                Options.CurveSecretKey is null ? null : CurveSettings.Server(Options.CurveSecretKey));
            if (ownTransport && ZmtpRouter.TryBind(Options.Endpoint, loop, received, zmtp, SocketFactory.RouterLinger, _logger) is { } router)
            {
                return router;
            }

            return new NetMqRouterLink(SocketFactory.Router(Options, Name), Options.Endpoint);
        }
        catch (Exception e) when (e is NetMQException or ArgumentException or System.Net.Sockets.SocketException)
        {
            throw new PigatoException(PigatoErrorCodes.Bind, $"Cannot bind {nameof(BrokerOptions.Endpoint)} '{Options.Endpoint}': {e.Message}", e);
        }
    }

    /// <summary>Binds a socket; a failure names the option and the address.</summary>
    private static void Bind(NetMQSocket socket, string option, string endpoint)
    {
        try
        {
            socket.Bind(endpoint);
        }
        catch (Exception e) when (e is NetMQException or ArgumentException)
        {
            throw new PigatoException(PigatoErrorCodes.Bind, $"Cannot bind {option} '{endpoint}': {e.Message}", e);
        }
    }

    [SuppressMessage("Design", "CA1030:Use events where appropriate", Justification = "Raises the Error event.")]
    private void ReportError(string code, string message, string? peerId, Exception? exception = null)
    {
        _errorLog.Report(code, peerId, message, exception);
        Error?.Invoke(this, new PigatoErrorEventArgs(code, message, peerId, exception));
    }
}
