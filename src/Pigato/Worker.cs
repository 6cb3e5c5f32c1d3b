using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Logging;
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
public sealed partial class Worker : IAsyncDisposable
{
    private readonly Func<byte[], WorkerReply, JsonElement, ValueTask> _handler;

    /// <summary>A <see cref="JsonElement"/> worker: request data is parsed on the loop (<see cref="WorkerReply.ParsedData"/>).</summary>
    private readonly bool _parsesOnLoop;
    private readonly ILogger _logger;
    private readonly ConnectionSettings _connectionSettings;
    private readonly byte[] _service;
    private readonly ActorLifecycle _lifecycle = new(nameof(Worker));

    /// <summary>Started, then Connected, whichever thread comes first.</summary>
    private readonly StartedBeforeConnected _events = new();
    private readonly BrokerConnections _connections = [];
    private ActorLoop? _loop;

    /// <summary>Where handlers start (unless <see cref="WorkerOptions.RunHandlersInline"/>); from start to stop.</summary>
    private HandOffLane? _lane;
    private int _concurrency;

    /// <summary>Completes when a broker has acknowledged the registration; replaced when the last broker is lost (loop thread).</summary>
    private TaskCompletionSource _registered = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates a worker whose handler reads request data as a <see cref="JsonElement"/>.</summary>
    public Worker(WorkerOptions options, RequestHandler<JsonElement> handler)
        : this(options, ParsedOrTyped(handler, options))
    {
        _parsesOnLoop = true;
    }

    private Worker(WorkerOptions options, Func<byte[], WorkerReply, JsonElement, ValueTask> handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _handler = handler;
        _concurrency = options.Concurrency;
        _service = Encoding.UTF8.GetBytes(options.Service);
        _replyCredits = new SemaphoreSlim(options.MaxQueuedReplies, options.MaxQueuedReplies);
        _logger = options.LoggerFactory.CreateLogger<Worker>();
        _connectionSettings = new ConnectionSettings(
            nameof(Worker),
            options.Prefix ?? "W" + Guid.NewGuid().ToString(),
            options.Liveness,
            options.ReconnectDelay,
            // The local queue takes every partial a handler may have posted while the broker fell behind (their credits are held meanwhile).
            SendHighWatermark: 1000 + options.MaxQueuedReplies,
            Linger: TimeSpan.FromMilliseconds(100),
            MaxMessageSize: -1,
            DetectDisconnect: options.DetectDisconnect ?? (options.Brokers.Count > 1 || BrokerDiscovery.Resolves(options.Brokers)),
            CurveServerKey: options.CurveServerKey,
            Side: ConnectionSide.Worker,
            Framing: options.Framing,
            Transport: options.Transport,
            Brokers: options.Brokers,
            DnsServer: options.DnsServer,
            DnsRefreshInterval: options.DnsRefreshInterval);
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

    /// <summary>Creates a worker whose handler reads request data as <typeparamref name="TData"/> with <see cref="WorkerOptions.SerializerOptions"/>.</summary>
    public static Worker Create<TData>(WorkerOptions options, RequestHandler<TData> handler)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new(options, Typed(handler, options, data => JsonSerializer.Deserialize<TData>(data, options.SerializerOptions)));
    }

    /// <summary>Creates a worker whose handler reads request data with source-generated type info (trimming and AOT safe).</summary>
    public static Worker Create<TData>(WorkerOptions options, JsonTypeInfo<TData> dataType, RequestHandler<TData> handler)
    {
        ArgumentNullException.ThrowIfNull(dataType);
        return new(options, Typed(handler, options, data => JsonSerializer.Deserialize(data, dataType)));
    }

    /// <summary>Creates a worker whose handler receives the request's data frame as it arrived (any bytes; empty when absent).</summary>
    /// <remarks>
    /// Answer with <see cref="WorkerReply.WriteRawAsync(ReadOnlyMemory{byte}, CancellationToken)"/> and
    /// <see cref="WorkerReply.EndRawAsync(ReadOnlyMemory{byte})"/> to send bytes back unchanged, or with their overloads that take
    /// an owner to hand a pooled buffer over without a copy. The request's data is the worker's own copy: keep it as long as needed.
    /// </remarks>
    public static Worker CreateRaw(WorkerOptions options, RequestHandler<ReadOnlyMemory<byte>> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        return new(options, (data, reply, requestOptions) => handler(data, reply, requestOptions));
    }

    /// <summary>Connects to the broker and registers the service.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        _events.Reset();
        await _lifecycle.StartAsync(StartCoreAsync, ReleaseAsync, cancellationToken).ConfigureAwait(false);
        _events.Started(() => Started?.Invoke(this, EventArgs.Empty), () => Connected?.Invoke(this, EventArgs.Empty));
    }

    /// <summary>
    /// Waits until a broker has acknowledged this worker's registration, so that requests sent from now on can reach it
    /// (<see cref="StartAsync"/> returns once the worker is connecting: a broker may start later). Completes at once while
    /// registered.
    /// </summary>
    /// <param name="timeout">How long to wait; then <see cref="PigatoException"/> <c>ERR_NO_BROKER</c> names the endpoints.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <exception cref="InvalidOperationException">The worker is not started.</exception>
    /// <exception cref="PigatoException">No broker acknowledged within <paramref name="timeout"/>.</exception>
    public async Task WaitForRegistrationAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        if (!_lifecycle.IsRunning)
        {
            throw new InvalidOperationException("Start the worker before waiting for its registration.");
        }

        try
        {
            await Volatile.Read(ref _registered).Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new PigatoException(PigatoErrorCodes.NoBroker, $"No broker at {string.Join(", ", Options.Brokers)} acknowledged the registration of '{Service}' within {timeout.TotalSeconds:0.#} s: is a broker running there (with the same CURVE key, and permissions that let this worker serve '{Service}')?", e);
        }
    }

    /// <summary>
    /// Stops: drains for <see cref="WorkerOptions.ShutdownGracePeriod"/> (if any), then sends DISCONNECT and
    /// closes; requests still running then go inactive and their replies are dropped.
    /// </summary>
    /// <param name="cancellationToken">Cuts the grace period short.</param>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (await _lifecycle.StopAsync(() => StopCoreAsync(cancellationToken)).ConfigureAwait(false))
        {
            Stopped?.Invoke(this, EventArgs.Empty);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _lifecycle.DisposeAsync(() => StopCoreAsync(CancellationToken.None));

    /// <summary>A <see cref="JsonElement"/> handler given the data parsed on the loop, else (large or invalid data) its own copy to parse.</summary>
    private static Func<byte[], WorkerReply, JsonElement, ValueTask> ParsedOrTyped(RequestHandler<JsonElement> handler, WorkerOptions options)
    {
        var typed = Typed(handler, options, data => JsonSerializer.Deserialize<JsonElement>(data, options.SerializerOptions));
        return (data, reply, requestOptions) => reply.ParsedData is { } parsed ? handler(parsed, reply, requestOptions) : typed(data, reply, requestOptions);
    }

    private static Func<byte[], WorkerReply, JsonElement, ValueTask> Typed<TData>(RequestHandler<TData> handler, WorkerOptions options, Func<byte[], TData?> read)
    {
        ArgumentNullException.ThrowIfNull(handler);
        ArgumentNullException.ThrowIfNull(options);
        return (data, reply, requestOptions) =>
        {
            TData? value;
            try
            {
                value = PigatoFrames.IsAbsent(data) ? default : read(data);
            }
            catch (JsonException e)
            {
                throw new PigatoException(PigatoErrorCodes.InvalidData, $"Request data is not a valid {typeof(TData).Name}.", e);
            }

            return handler(value, reply, requestOptions);
        };
    }

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        _draining = false;
        _stopping = false;
        var loop = _loop = new ActorLoop(nameof(Worker), e => RaiseError(PigatoErrorCodes.Internal, "Worker loop error: " + e.Message, e), Internal.Links.BrokerLinks.NeedNetMq(_connectionSettings));
        _lane = Options.RunHandlersInline ? null : new HandOffLane("Pigato.Worker handlers", () => Volatile.Read(ref _running) <= 1, loop);
        loop.UserCodeHeld = (held, cooldown) => Log.UserCodeHeldLoop(_logger, nameof(Worker), held, cooldown);
        loop.AfterEach = () =>
        {
            _connections.Flush();
            ReleaseHeldReplyCredits();
        };
        loop.Timer(Options.HeartbeatInterval, OnHeartbeatTick);
        await _connections.StartAsync(loop, _connectionSettings, this, _logger, e => RaiseError(e.Code, e.Message, e), cancellationToken).ConfigureAwait(false);
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        if (_loop is { } loop && Options.ShutdownGracePeriod > TimeSpan.Zero)
        {
            await DrainAsync(loop, cancellationToken).ConfigureAwait(false);
        }

        await _connections.StopAsync(_loop).ConfigureAwait(false);
        await AwaitHandlersAsync().ConfigureAwait(false);
        await ReleaseAsync().ConfigureAwait(false);
        Log.WorkerStopped(_logger, Service);
    }

    /// <summary>Closes whatever a start made (also after a failed start).</summary>
    private Task ReleaseAsync()
    {
        _connections.Release(_loop);
        _loop = null;
        _lane?.Dispose();
        _lane = null;
        _draining = false;
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
