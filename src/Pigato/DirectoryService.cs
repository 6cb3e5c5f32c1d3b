using System.Collections.Frozen;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using NetMQ;
using NetMQ.Sockets;
using Pigato.Internal;

namespace Pigato;

/// <summary>
/// The <c>$dir</c> core service as a worker of its own, in another process than the broker: it answers which workers
/// offer a service, following the broker's directory on the internal PUB channel. A .NET broker answers <c>$dir</c>
/// itself with <see cref="BrokerOptions.EnableDirectory"/> (at once, from its own tables, by the requester's permissions);
/// this service is for a broker that does not (PIGATO for Node.js), as PIGATO's own Directory.
/// </summary>
/// <remarks>
/// A request with a service name as data answers that service's worker ids (an array, empty when
/// unknown); a request with no data answers the whole map (an object of arrays), <c>$dir</c> included.
/// Unlike the original, every answer is current: for each request it asks the broker for a fresh snapshot
/// (a .NET broker publishes every change at once, coalescing only a burst into one publication per 50 ms) and answers
/// from it, or from the last one when none arrives within a second; it answers nothing before its first snapshot.
/// It knows nothing of the broker's permissions: every requester sees every service.
/// </remarks>
public sealed class DirectoryService : IAsyncDisposable
{
    /// <summary>The service name of the directory.</summary>
    public const string ServiceName = "$dir";

    private static readonly byte[] Topic = "$dir "u8.ToArray();
    private static readonly TimeSpan UpdateRetry = TimeSpan.FromMilliseconds(100);

    private readonly DirectoryServiceOptions _options;
    private readonly Worker _worker;
    private readonly ILogger _logger;
    private readonly ActorLifecycle _lifecycle = new(nameof(DirectoryService));
    private static readonly TimeSpan FreshSnapshotWait = TimeSpan.FromSeconds(1);

    private TaskCompletionSource _firstSnapshot = NewSignal();
    private TaskCompletionSource _nextSnapshot = NewSignal();
    private FrozenDictionary<string, string[]> _snapshot = FrozenDictionary<string, string[]>.Empty;
    private ActorLoop? _loop;
    private SubscriberSocket? _subscriber;

    /// <summary>Creates the service; it does nothing until <see cref="StartAsync"/>.</summary>
    public DirectoryService(DirectoryServiceOptions? options = null)
    {
        _options = options ?? DirectoryServiceOptions.Default;
        ArgumentException.ThrowIfNullOrWhiteSpace(_options.InternalEndpoint, nameof(DirectoryServiceOptions.InternalEndpoint));
        _logger = _options.LoggerFactory.CreateLogger<DirectoryService>();
        _worker = new Worker(
            new WorkerOptions
            {
                Endpoint = _options.Endpoint,
                Service = ServiceName,
                Concurrency = -1,
                HeartbeatInterval = _options.HeartbeatInterval,
                CurveServerKey = _options.CurveServerKey,
                Credential = _options.Credential,
                LoggerFactory = _options.LoggerFactory,
            },
            HandleAsync);
    }

    /// <summary>The last directory received: service name → worker ids.</summary>
    public IReadOnlyDictionary<string, string[]> Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>Subscribes to the internal channel, registers <c>$dir</c> and asks the broker for a snapshot.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default) => _lifecycle.StartAsync(StartCoreAsync, ReleaseAsync, cancellationToken);

    /// <summary>Unregisters <c>$dir</c> and closes the subscription.</summary>
    public Task StopAsync(CancellationToken cancellationToken = default) => _lifecycle.StopAsync(() => StopCoreAsync(cancellationToken));

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _lifecycle.DisposeAsync(() => StopCoreAsync(CancellationToken.None));

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private async Task StartCoreAsync(CancellationToken cancellationToken)
    {
        _firstSnapshot = NewSignal();
        var loop = _loop = new ActorLoop(nameof(DirectoryService), e => Log.PeerError(_logger, PigatoErrorCodes.Internal, ServiceName, e.Message, e), withNetMq: true);
        var subscriber = _subscriber = SocketFactory.Subscriber(_options.CurveServerKey);
        subscriber.ReceiveReady += (_, _) => loop.Guard(OnPublished);
        subscriber.Subscribe(Topic);
        subscriber.Connect(_options.InternalEndpoint);
        loop.Add(subscriber);

        // PUB/SUB joins late: ask the broker for its directory again and again until the first snapshot arrives.
        LoopTimer? retry = null;
        retry = loop.Timer(UpdateRetry, () =>
        {
            if (_firstSnapshot.Task.IsCompleted)
            {
                retry!.Enable = false;
                return;
            }

            _worker.RequestDirectoryUpdate();
        });
        await loop.StartAsync().ConfigureAwait(false);
        await _worker.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task StopCoreAsync(CancellationToken cancellationToken)
    {
        await _worker.StopAsync(cancellationToken).ConfigureAwait(false);
        await ReleaseAsync().ConfigureAwait(false);
    }

    private Task ReleaseAsync()
    {
        _loop?.Dispose();
        _subscriber?.Dispose();
        _loop = null;
        _subscriber = null;
        return Task.CompletedTask;
    }

    private void OnPublished()
    {
        while (_subscriber!.TryReceiveFrameBytes(TimeSpan.Zero, out var frame))
        {
            if (frame.AsSpan().StartsWith(Topic))
            {
                var map = JsonSerializer.Deserialize<Dictionary<string, string[]>>(frame.AsSpan(Topic.Length)) ?? [];
                Volatile.Write(ref _snapshot, map.ToFrozenDictionary(StringComparer.Ordinal));
                _firstSnapshot.TrySetResult();
                Interlocked.Exchange(ref _nextSnapshot, NewSignal()).TrySetResult();
            }
        }
    }

    private async ValueTask HandleAsync(JsonElement data, WorkerReply reply, JsonElement options)
    {
        try
        {
            await _firstSnapshot.Task.WaitAsync(_options.SnapshotWait, reply.CancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new PigatoException(PigatoErrorCodes.DirectoryUnavailable, "No directory snapshot from the broker's internal channel yet.", e);
        }

        // A snapshot published after this request arrived reflects every registration before it.
        var fresh = Volatile.Read(ref _nextSnapshot).Task;
        _worker.RequestDirectoryUpdate();
        try
        {
            await fresh.WaitAsync(FreshSnapshotWait, reply.CancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The broker is slow to publish: the last snapshot is the best answer there is.
        }

        var snapshot = Snapshot;
        if (data.ValueKind == JsonValueKind.String)
        {
            await reply.EndAsync(snapshot.TryGetValue(data.GetString()!, out var workers) ? workers : []).ConfigureAwait(false);
            return;
        }

        await reply.EndAsync(snapshot).ConfigureAwait(false);
    }
}
