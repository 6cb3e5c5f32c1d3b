namespace Pigato.Routing;

/// <summary>A registered worker as the broker sees it; kept by <see cref="WorkerRegistry"/>.</summary>
internal sealed class BrokerWorker(string key, byte[] identity, ServiceEntry service, int liveness, int concurrency, long maxInFlightBytes) : IPeerEntry
{
    /// <summary>The identity as a registry key (one char per byte, so that binary identities never collide).</summary>
    public string Key { get; } = key;

    /// <summary>The worker id as text (directory listings, <c>workerId</c> targeting, logs).</summary>
    public string Id { get; } = Internal.Utf8.Decode(identity);

    public byte[] Identity { get; } = identity;

    /// <summary>The principal it authenticated as (or anonymous), when the broker requires authentication.</summary>
    public string? Principal { get; set; }

    /// <summary>The service it registered as.</summary>
    public ServiceEntry Service { get; } = service;

    /// <summary>Most requests in flight at once; -1 for no limit.</summary>
    public int Concurrency { get; set; } = concurrency;

    /// <summary>Heartbeat ticks left before the worker is purged; refreshed by every message from it.</summary>
    public int Liveness { get; set; } = liveness;

    /// <summary>True when the worker sent something since the last heartbeat tick.</summary>
    public bool HeardSinceTick { get; set; } = true;

    /// <summary>Requests it holds, by request key.</summary>
    public Dictionary<string, BrokerRequest> InFlight { get; } = new(StringComparer.Ordinal);

    /// <summary>The bytes of the requests it holds: past <see cref="BrokerOptions.MaxInFlightBytesPerWorker"/> it is busy.</summary>
    public long InFlightBytes { get; private set; }

    /// <summary>Requests dispatched to it.</summary>
    public long Dispatched { get; set; }

    /// <summary>Final replies it sent.</summary>
    public long Served { get; set; }

    /// <summary>Final replies it sent that were errors.</summary>
    public long Errors { get; set; }

    /// <summary>Requests it gave back.</summary>
    public long Rejected { get; set; }

    /// <summary>Its last error reply (the error value as JSON, cut short), for its service statistics.</summary>
    public string? LastError { get; set; }

    /// <summary>When it was last heard from, as a timestamp.</summary>
    public long LastHeard { get; set; }

    private Monitoring.DurationRecorder? _processing;

    /// <summary>Dispatch to final reply, per request (made on its first reply).</summary>
    public Monitoring.DurationRecorder Processing => _processing ??= new();

    /// <summary>The processing times so far.</summary>
    public Monitoring.DurationHistogram ProcessingTime => _processing?.Snapshot() ?? Monitoring.DurationHistogram.Empty;

    /// <summary>True while messages to it wait in its outbound queue (it reads slower than it is sent to): it is busy.</summary>
    public bool Backlogged { get; set; }

    public bool IsAvailable => !Backlogged && (Concurrency < 0 || InFlight.Count < Concurrency) && (InFlightBytes < maxInFlightBytes || InFlight.Count == 0);

    /// <summary>The worker now holds <paramref name="request"/>.</summary>
    public void Hold(BrokerRequest request)
    {
        InFlight.Add(request.Key, request);
        InFlightBytes += request.HeldBytes;
    }

    /// <summary>The worker no longer holds <paramref name="request"/> (answered, given back, abandoned or lost).</summary>
    public void Free(BrokerRequest request)
    {
        if (InFlight.Remove(request.Key))
        {
            InFlightBytes -= request.HeldBytes;
        }
    }

    /// <summary>How many abandoned request keys a worker remembers (so that their late replies are not protocol violations).</summary>
    private const int AbandonedMemory = 1024;

    private readonly Queue<string> _abandonedOrder = new();
    private readonly HashSet<string> _abandoned = new(StringComparer.Ordinal);

    /// <summary>Remembers a request the broker freed past its timeout (bounded: the oldest are forgotten).</summary>
    public void RememberAbandoned(string requestKey)
    {
        if (_abandoned.Add(requestKey))
        {
            _abandonedOrder.Enqueue(requestKey);
            if (_abandonedOrder.Count > AbandonedMemory)
            {
                _abandoned.Remove(_abandonedOrder.Dequeue());
            }
        }
    }

    /// <summary>True (once) when the reply is for a request the broker freed past its timeout.</summary>
    public bool ForgetAbandoned(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid) =>
        _abandoned.Count > 0 && _abandoned.Remove(PeerKey.Of(clientId, rid));
}
