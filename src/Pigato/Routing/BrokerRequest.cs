namespace Pigato.Routing;

/// <summary>A request the broker holds, from arrival to its end; created, moved and ended only by <see cref="RequestTable"/>.</summary>
internal sealed class BrokerRequest(string key, byte[] rid, byte[] clientId, ServiceEntry service, byte[] data, byte[] options, BrokerRequestOptions parsed, long arrivedAt)
{
    /// <summary>The request's key in the table: its client and its rid (two clients may use the same rid).</summary>
    public string Key { get; } = key;

    private string? _rid;

    /// <summary>The rid as text, for logs and errors (made on first use: the hot path never needs it).</summary>
    public string Rid => _rid ??= Internal.Utf8.Decode(RidBytes);

    public byte[] RidBytes { get; } = rid;

    public byte[] ClientId { get; } = clientId;

    /// <summary>The requested service (its queue).</summary>
    public ServiceEntry Service { get; } = service;

    public byte[] Data { get; } = data;

    public byte[] Options { get; } = options;

    public BrokerRequestOptions Parsed { get; } = parsed;

    /// <summary>When it arrived, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long ArrivedAt { get; } = arrivedAt;

    /// <summary>The worker handling it; null while queued.</summary>
    public BrokerWorker? Worker { get; set; }

    /// <summary>Where it waits in its service queue; null while in flight.</summary>
    public LinkedListNode<BrokerRequest>? QueueNode { get; set; }

    /// <summary>Workers (by key) that rejected it; never offered it again.</summary>
    public HashSet<string>? RejectedBy { get; set; }

    /// <summary>True when only some workers may take it (workerId or rejections).</summary>
    public bool IsConstrained => Parsed.WorkerId is not null || RejectedBy is not null;

    public bool IsExpired(TimeProvider time, long now) =>
        Parsed.Timeout >= 0 && time.GetElapsedTime(ArrivedAt, now).TotalMilliseconds > Parsed.Timeout;

    public bool Accepts(BrokerWorker worker) =>
        (Parsed.WorkerId is null || Parsed.WorkerId == worker.Id) && (RejectedBy is null || !RejectedBy.Contains(worker.Key));
}
