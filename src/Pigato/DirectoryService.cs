using System.Collections.Frozen;
using System.Text.Json;
using NetMQ;
using NetMQ.Sockets;
using Pigato.Internal;
using Pigato.Protocol;

namespace Pigato;

/// <summary>
/// The <c>$dir</c> core service: a worker that answers which workers offer a service. It follows the
/// broker's directory on the internal PUB channel.
/// </summary>
/// <remarks>
/// A request with a service name as data answers that service's worker ids (an array, empty when
/// unknown); a request with no data answers the whole map (an object of arrays), <c>$dir</c> included.
/// Unlike the original, it asks the broker for a snapshot when it starts and answers no request before
/// it has one, so even the first answer is current.
/// </remarks>
public sealed class DirectoryService : IAsyncDisposable
{
    /// <summary>The service name of the directory.</summary>
    public const string ServiceName = "$dir";

    private static readonly byte[] Topic = "$dir "u8.ToArray();
    private static readonly TimeSpan UpdateRetry = TimeSpan.FromMilliseconds(100);

    private readonly DirectoryServiceOptions _options;
    private readonly Worker _worker;
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private TaskCompletionSource _firstSnapshot = NewSignal();
    private FrozenDictionary<string, string[]> _snapshot = FrozenDictionary<string, string[]>.Empty;
    private ActorLoop? _loop;
    private SubscriberSocket? _subscriber;
    private CancellationTokenSource? _stopping;
    private Task? _updates;

    /// <summary>Creates the service; it does nothing until <see cref="StartAsync"/>.</summary>
    public DirectoryService(DirectoryServiceOptions? options = null)
    {
        _options = options ?? new DirectoryServiceOptions();
        ArgumentException.ThrowIfNullOrWhiteSpace(_options.InternalEndpoint, nameof(DirectoryServiceOptions.InternalEndpoint));
        _worker = new Worker(
            new WorkerOptions
            {
                Endpoint = _options.Endpoint,
                Service = ServiceName,
                Concurrency = -1,
                HeartbeatInterval = _options.HeartbeatInterval,
                LoggerFactory = _options.LoggerFactory,
            },
            HandleAsync);
    }

    /// <summary>The last directory received: service name → worker ids.</summary>
    public IReadOnlyDictionary<string, string[]> Snapshot => Volatile.Read(ref _snapshot);

    /// <summary>Subscribes to the internal channel, registers <c>$dir</c> and asks the broker for a snapshot.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loop is not null)
            {
                return;
            }

            _firstSnapshot = NewSignal();
            var loop = new ActorLoop(_ => { });
            var subscriber = new SubscriberSocket();
            subscriber.Options.Linger = TimeSpan.Zero;
            subscriber.ReceiveReady += (_, _) => loop.Guard(OnPublished);
            subscriber.Subscribe(Topic);
            subscriber.Connect(_options.InternalEndpoint);
            loop.Add(subscriber);
            _subscriber = subscriber;
            _loop = loop;
            await loop.StartAsync("Pigato.Directory").ConfigureAwait(false);

            await _worker.StartAsync(cancellationToken).ConfigureAwait(false);
            _stopping = new CancellationTokenSource();
            _updates = RequestSnapshotAsync(_stopping.Token);
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    /// <summary>Unregisters <c>$dir</c> and closes the subscription.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _lifecycle.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_loop is not { } loop)
            {
                return;
            }

            await _stopping!.CancelAsync().ConfigureAwait(false);
            await _updates!.ConfigureAwait(false);
            _stopping.Dispose();
            await _worker.StopAsync(cancellationToken).ConfigureAwait(false);
            loop.Dispose();
            _subscriber!.Dispose();
            _loop = null;
            _subscriber = null;
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
        await _worker.DisposeAsync().ConfigureAwait(false);
        _lifecycle.Dispose();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>PUB/SUB joins late: ask again until the first snapshot arrives.</summary>
    private async Task RequestSnapshotAsync(CancellationToken stopping)
    {
        while (!_firstSnapshot.Task.IsCompleted && !stopping.IsCancellationRequested)
        {
            _worker.RequestDirectoryUpdate();
            await Task.WhenAny(_firstSnapshot.Task, Task.Delay(UpdateRetry, stopping)).ConfigureAwait(false);
        }
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

        var snapshot = Snapshot;
        if (data.ValueKind == JsonValueKind.String)
        {
            await reply.EndAsync(snapshot.TryGetValue(data.GetString()!, out var workers) ? workers : []).ConfigureAwait(false);
            return;
        }

        await reply.EndAsync(snapshot).ConfigureAwait(false);
    }
}
