using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

/// <summary>
/// The PIGATO broker: queues requests per service and routes them to workers, relaying their replies.
/// </summary>
/// <remarks>
/// All state lives on one thread that owns the sockets; public members are safe from any thread.
/// Event handlers run on that thread: keep them short. Metrics are published on the <c>Pigato</c> meter
/// (see <see cref="MeterName"/>).
/// </remarks>
public sealed partial class Broker : IAsyncDisposable
{
    private const int MaxFrames = 16;
    private const int MaxMessagesPerWakeup = 4096;
    private static readonly TimeSpan ShutdownQuietPeriod = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan ShutdownDrainLimit = TimeSpan.FromMilliseconds(500);

    private readonly ILogger _logger;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly Dictionary<string, ServiceEntry> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BrokerWorker> _workers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BrokerRequest> _requests = new(StringComparer.Ordinal);
    private readonly ReceivedFrames _frames = new(MaxFrames) { Base = 1 };
    private ActorLoop? _loop;
    private RouterSocket? _router;
    private PublisherSocket? _publisher;
    private SocketFrameWriter? _writer;
    private DirectoryService? _directory;
    private BrokerMetrics? _metrics;

    /// <summary>The last snapshot taken at a heartbeat tick, for the metric gauges (read from other threads).</summary>
    private BrokerStats _tickStats = new(0, 0, 0, 0, 0);

    /// <summary>Creates a broker; it does nothing until <see cref="StartAsync"/>.</summary>
    public Broker(BrokerOptions? options = null)
    {
        Options = options ?? BrokerOptions.Default;
        Options.Validate();
        Name = Options.Name ?? "B" + Guid.NewGuid().ToString("N");
        _logger = Options.LoggerFactory.CreateLogger<Broker>();
    }

    /// <summary>The name of the System.Diagnostics.Metrics meter the broker reports on: request counters by outcome, worker and request gauges.</summary>
    public const string MeterName = BrokerMetrics.MeterName;

    /// <summary>The options this broker runs with.</summary>
    public BrokerOptions Options { get; }

    /// <summary>The broker's socket identity.</summary>
    public string Name { get; }

    /// <summary>The endpoint actually bound (an ephemeral port resolved), or null when not running.</summary>
    public string? Endpoint { get; private set; }

    /// <summary>The internal PUB channel actually bound, or null when not running or turned off.</summary>
    public string? InternalEndpoint { get; private set; }

    /// <summary>True between <see cref="StartAsync"/> and <see cref="StopAsync"/>.</summary>
    public bool IsRunning => _loop is not null;

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
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loop is not null)
            {
                return;
            }

            var router = new RouterSocket();
            PublisherSocket? publisher = null;
            try
            {
                router.Options.Identity = System.Text.Encoding.UTF8.GetBytes(Name);
                router.Options.RouterMandatory = true;
                router.Options.SendHighWatermark = Options.SendHighWatermark;
                router.Options.ReceiveHighWatermark = Options.SendHighWatermark;
                router.Options.MaxMsgSize = Options.MaxFrameSize;
                router.Options.Linger = TimeSpan.FromMilliseconds(200);
                Bind(router, Options.Endpoint);
                if (Options.InternalEndpoint is { Length: > 0 } intch)
                {
                    publisher = new PublisherSocket();
                    publisher.Options.Linger = TimeSpan.Zero;
                    Bind(publisher, intch);
                }
            }
            catch
            {
                router.Dispose();
                publisher?.Dispose();
                throw;
            }

            _router = router;
            _publisher = publisher;
            _metrics = new BrokerMetrics(Name, () => Volatile.Read(ref _tickStats));
            Endpoint = router.Options.LastEndpoint;
            InternalEndpoint = publisher?.Options.LastEndpoint;
            _writer = new SocketFrameWriter(router, Options.SendTimeout);

            var loop = new ActorLoop(e => ReportError(PigatoErrorCodes.Internal, "Broker loop error: " + e.Message, null, e));
            router.ReceiveReady += (_, _) => OnRouterReady();
            var timer = new NetMQTimer(Options.HeartbeatInterval);
            timer.Elapsed += (_, _) => loop.Guard(OnHeartbeatTick);
            loop.Add(router);
            loop.Add(timer);
            _loop = loop;
            await loop.StartAsync("Pigato.Broker").ConfigureAwait(false);

            Log.Started(_logger, Name, Endpoint, InternalEndpoint);
            if (Options.EnableDirectory)
            {
                _directory = new DirectoryService(new DirectoryServiceOptions
                {
                    Endpoint = Connectable(Endpoint!),
                    InternalEndpoint = Connectable(InternalEndpoint!),
                    HeartbeatInterval = Options.HeartbeatInterval,
                    LoggerFactory = Options.LoggerFactory,
                });
                await _directory.StartAsync(cancellationToken).ConfigureAwait(false);
            }

            Started?.Invoke(this, EventArgs.Empty);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>
    /// Stops routing: every request still held gets an error reply (<c>ERR_BROKER_STOPPED</c>), every worker a
    /// DISCONNECT, then the sockets close.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loop is not { } loop)
            {
                return;
            }

            if (_directory is not null)
            {
                await _directory.DisposeAsync().ConfigureAwait(false);
                _directory = null;
            }

            await loop.InvokeAsync(() =>
            {
                Shutdown();
                return true;
            }).ConfigureAwait(false);
            loop.Dispose();
            _router!.Dispose();
            _publisher?.Dispose();
            _metrics?.Dispose();
            _metrics = null;
            _loop = null;
            _router = null;
            _publisher = null;
            _writer = null;
            Endpoint = null;
            InternalEndpoint = null;
            Log.Stopped(_logger, Name);
            Stopped?.Invoke(this, EventArgs.Empty);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>A consistent snapshot of what the broker holds, taken on its thread.</summary>
    public Task<BrokerStats> GetStatsAsync()
    {
        var loop = _loop ?? throw new InvalidOperationException("The broker is not running.");
        return loop.InvokeAsync(Snapshot);
    }

    /// <summary>Counts what the broker holds (loop thread only).</summary>
    private BrokerStats Snapshot() => new(
        _workers.Count,
        _services.Count,
        _services.Values.Sum(s => s.Queue.Count),
        _workers.Values.Sum(w => w.InFlight.Count),
        _requests.Count);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _frames.Dispose();
        _lifecycle.Dispose();
    }

    private static void Bind(NetMQSocket socket, string endpoint)
    {
        try
        {
            socket.Bind(endpoint);
        }
        catch (Exception e) when (e is NetMQException or ArgumentException)
        {
            throw new PigatoException(PigatoErrorCodes.Bind, $"Cannot bind '{endpoint}': {e.Message}", e);
        }
    }

    /// <summary>The address an in-process peer connects to for a bound endpoint (a wildcard host becomes 127.0.0.1).</summary>
    private static string Connectable(string bound) =>
        bound.Replace("tcp://0.0.0.0:", "tcp://127.0.0.1:", StringComparison.Ordinal).Replace("tcp://*:", "tcp://127.0.0.1:", StringComparison.Ordinal);

    private void Shutdown()
    {
        // Replies already on their way (a worker that drained just before) still reach their clients.
        var deadline = Stopwatch.GetTimestamp() + (long)(ShutdownDrainLimit.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline && _frames.TryReceive(_router!, ShutdownQuietPeriod))
        {
            HandleReceived();
        }

        foreach (var request in _requests.Values.ToList())
        {
            FailToClient(request, PigatoErrorCodes.BrokerStopped);
        }

        foreach (var worker in _workers.Values)
        {
            SendDisconnect(worker.Identity);
        }

        foreach (var worker in _workers.Values.ToList())
        {
            _workers.Remove(worker.Id);
            worker.Service.Workers.Remove(worker);
            _resolver.Update(worker.Service);
        }

        _requests.Clear();
        _services.Clear();
    }

    private void OnRouterReady()
    {
        for (var i = 0; i < MaxMessagesPerWakeup && _frames.TryReceive(_router!); i++)
        {
            HandleReceived();
        }
    }

    /// <summary>Handles the message in <see cref="_frames"/>, then serves the queues it made ready.</summary>
    private void HandleReceived()
    {
        try
        {
            HandleMessage();
        }
#pragma warning disable CA1031 // One bad message must never stop the broker.
        catch (Exception e)
#pragma warning restore CA1031
        {
            ReportError(PigatoErrorCodes.Internal, "Failed to handle a message: " + e.Message, null, e);
        }
        finally
        {
            _frames.Clear();
        }

        DispatchPending();
    }

    private void HandleMessage()
    {
        if (_frames.Truncated)
        {
            ReportError(PigatoErrorCodes.MessageLength, $"Message with more than {MaxFrames} frames discarded.", PeerId());
            return;
        }

        var decoded = PigatoDecoder.ForBroker(_frames);
        switch (decoded.Kind)
        {
            case PigatoMessageKind.ClientRequest:
                OnClientRequest();
                break;
            case PigatoMessageKind.ClientHeartbeat:
                SendToSender(PigatoEncoder.ClientHeartbeat);
                break;
            case PigatoMessageKind.ClientRequestHeartbeat:
                OnClientRequestHeartbeat();
                break;
            case PigatoMessageKind.WorkerReady:
                OnWorkerReady();
                break;
            case PigatoMessageKind.WorkerHeartbeat:
                OnWorkerHeartbeat();
                break;
            case PigatoMessageKind.WorkerPartialReply:
            case PigatoMessageKind.WorkerFinalReply:
                OnWorkerReply(decoded.Kind == PigatoMessageKind.WorkerFinalReply);
                break;
            case PigatoMessageKind.WorkerReject:
                OnWorkerReject();
                break;
            case PigatoMessageKind.WorkerDisconnect:
                OnWorkerDisconnect();
                break;
            default:
                OnInvalidMessage(decoded.Error!);
                break;
        }
    }

    private void OnHeartbeatTick()
    {
        foreach (var worker in _workers.Values.ToList())
        {
            worker.Liveness--;
            if (worker.Liveness < 0)
            {
                RemoveWorker(worker, "purged after missing heartbeats", sendDisconnect: true);
            }
            else if (!worker.HeardSinceTick)
            {
                SendToPeer(worker.Identity, PigatoEncoder.BrokerHeartbeat);
            }

            worker.HeardSinceTick = false;
        }

        ExpireQueuedRequests();
        DispatchPending();
        Volatile.Write(ref _tickStats, Snapshot());
    }

    private string PeerId() => Utf8.Decode(_frames.Raw(0));

    [SuppressMessage("Design", "CA1030:Use events where appropriate", Justification = "Raises the Error event.")]
    private void ReportError(string code, string message, string? peerId, Exception? exception = null)
    {
        Log.PeerError(_logger, code, peerId, message, exception);
        Error?.Invoke(this, new PigatoErrorEventArgs(code, message, peerId, exception));
    }

    private delegate void Encode(IFrameWriter writer);

    /// <summary>Sends a message to a peer by identity; false when it could not be delivered.</summary>
    private bool SendToPeer(byte[] identity, Encode encode)
    {
        var writer = _writer!;
        writer.Write(identity, true);
        encode(writer);
        return writer.EndMessage();
    }

    /// <summary>Answers the sender of the message being handled, reusing its identity frame.</summary>
    private bool SendToSender(Encode encode)
    {
        var writer = _writer!;
        writer.Forward(ref _frames.RawFrame(0), true);
        encode(writer);
        return writer.EndMessage();
    }

    private void SendDisconnect(byte[] identity) => SendToPeer(identity, PigatoEncoder.WorkerDisconnect);
}

/// <summary>What a broker holds at one moment.</summary>
/// <param name="Workers">Registered workers.</param>
/// <param name="Services">Known service names (requested or registered).</param>
/// <param name="QueuedRequests">Requests waiting for a worker.</param>
/// <param name="InFlightRequests">Requests a worker holds.</param>
/// <param name="TrackedRequests">Every request the broker remembers; equals queued + in flight unless something leaked.</param>
public sealed record BrokerStats(int Workers, int Services, int QueuedRequests, int InFlightRequests, int TrackedRequests);
