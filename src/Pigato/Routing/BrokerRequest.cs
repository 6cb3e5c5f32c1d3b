namespace Pigato.Routing;

/// <summary>A request the broker holds, from arrival to its end; created, moved and ended only by <see cref="RequestTable"/>.</summary>
internal sealed class BrokerRequest(string key, BrokerClient client, byte[] rid, byte[] clientId, ServiceEntry service, byte[] data, byte[] options, BrokerRequestOptions parsed, long arrivedAt)
{
    /// <summary>What a request costs beyond its frames (objects, dictionary entries), counted in the memory budget.</summary>
    public const int Overhead = 256;

    /// <summary>The request's key in the table: its client and its rid (two clients may use the same rid).</summary>
    public string Key { get; } = key;

    private string? _rid;

    /// <summary>The rid as text, for logs and errors (made on first use: the hot path never needs it).</summary>
    public string Rid => _rid ??= Internal.Utf8.Decode(RidBytes);

    public byte[] RidBytes { get; } = rid;

    /// <summary>The client that owns it.</summary>
    public BrokerClient Client { get; } = client;

    /// <summary>The bytes it holds in the broker, counted against the budgets.</summary>
    public long HeldBytes { get; } = Overhead + rid.Length + clientId.Length + data.Length + options.Length;

    /// <summary>Its last sign of life at a worker (dispatch, a partial reply, a request heartbeat), as a timestamp.</summary>
    public long LastActivity { get; set; } = arrivedAt;

    /// <summary>The identity of the client that sent it: the worker replies with it.</summary>
    public byte[] ClientId { get; } = clientId;

    /// <summary>
    /// Where its replies go: its client, or the identity a <c>persist</c> request's client re-attached under; null for a
    /// request read back from the store that no client has re-attached to yet (its final reply is then kept, see <see cref="ParkedReply"/>).
    /// </summary>
    public byte[]? ReplyTo { get; set; } = clientId;

    /// <summary>True for a <c>persist</c> request: it is in the store (when the broker has one) until it ends.</summary>
    public bool IsDurable { get; init; }

    private string? _durableKey;

    /// <summary>Its key among durable requests: its rid alone, so that a client re-attaching under a new identity finds it.</summary>
    public string DurableKey => _durableKey ??= PeerKey.Of(RidBytes);

    /// <summary>When the broker first accepted it, in Unix milliseconds (kept in the store; its timeout counts from there).</summary>
    public long StoredAt { get; init; }

    /// <summary>The final reply (status, data, options) of a durable request whose client has not re-attached yet.</summary>
    public byte[][]? ParkedReply { get; set; }

    /// <summary>When <see cref="ParkedReply"/> was kept, as a timestamp.</summary>
    public long ParkedAt { get; set; }

    /// <summary>
    /// Its removal from the store is journalled and its kept final reply waits for that to be durable, then goes to
    /// <see cref="ReplyTo"/>; ending it journals nothing more.
    /// </summary>
    public bool AwaitingRemoval { get; set; }

    /// <summary>The requested service (its queue).</summary>
    public ServiceEntry Service { get; } = service;

    public byte[] Data { get; } = data;

    public byte[] Options { get; private set; } = options;

    public BrokerRequestOptions Parsed { get; } = parsed;

    /// <summary>When it arrived, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long ArrivedAt { get; } = arrivedAt;

    /// <summary>The broker's span of it (arrival to end, dispatches and rejections as events), when someone listens.</summary>
    public System.Diagnostics.Activity? Activity { get; set; }

    /// <summary>When it was last handed to a worker, as a timestamp (its processing time counts from there).</summary>
    public long DispatchedAt { get; set; }

    /// <summary>
    /// True once its client cancelled it while a worker held it: nothing the worker sends for it goes to the client, and
    /// its final reply (or rejection, or the worker's loss) ends it without a retry.
    /// </summary>
    public bool Cancelled { get; set; }

    /// <summary>Workers lost while they held it (see <see cref="BrokerOptions.MaxWorkersLostPerRequest"/>).</summary>
    public int WorkersLost { get; private set; } = parsed.WorkersLost;

    /// <summary>The worker holding it was lost: counted, and the count carried in its options (a stored request keeps it).</summary>
    public void RecordWorkerLost()
    {
        WorkersLost++;
        Options = Internal.JsonFrame.WithFields(Options, ("workersLost", WorkersLost));
    }

    /// <summary>The worker handling it; null while queued.</summary>
    public BrokerWorker? Worker { get; set; }

    /// <summary>Where it waits in its service queue's lane; null while in flight.</summary>
    public LinkedListNode<BrokerRequest>? QueueNode { get; set; }

    /// <summary>Which lane of its service queue it waits in: its client's or principal's (<see cref="FairQueuing"/>), or the one lane.</summary>
    public string LaneKey { get; init; } = "";

    /// <summary>Workers (by key) that rejected it; never offered it again.</summary>
    public HashSet<string>? RejectedBy { get; set; }

    /// <summary>True when only some workers may take it (workerId or rejections).</summary>
    public bool IsConstrained => Parsed.WorkerId is not null || RejectedBy is not null;

    /// <summary>True when it waited in its queue longer than its timeout.</summary>
    public bool IsExpired(TimeProvider time, long now) =>
        (Parsed.Timeout >= 0 && time.GetElapsedTime(ArrivedAt, now).TotalMilliseconds > Parsed.Timeout) || RemainingBudget(time, now) == 0;

    /// <summary>Milliseconds its caller still waits (its <c>deadline</c> budget less the time spent here), or -1 when it has none.</summary>
    public long RemainingBudget(TimeProvider time, long now) =>
        Parsed.Deadline < 0 ? -1 : Math.Max(0, Parsed.Deadline - (long)time.GetElapsedTime(ArrivedAt, now).TotalMilliseconds);

    /// <summary>
    /// Before it goes to a worker: a request with a deadline carries the budget left now, so that the worker (and the
    /// calls its handler makes) count from what remains, on its own clock.
    /// </summary>
    public void CarryRemainingBudget(TimeProvider time, long now)
    {
        if (RemainingBudget(time, now) is var remaining and >= 0)
        {
            Options = Internal.JsonFrame.WithFields(Options, ("deadline", remaining));
        }
    }

    /// <summary>True when its worker has shown nothing for it for longer than its timeout plus <paramref name="grace"/>.</summary>
    public bool IsAbandonedAtWorker(TimeProvider time, long now, TimeSpan grace) =>
        Parsed.Timeout >= 0 && time.GetElapsedTime(LastActivity, now) > TimeSpan.FromMilliseconds(Parsed.Timeout) + grace;

    public bool Accepts(BrokerWorker worker) =>
        (Parsed.WorkerId is null || Parsed.WorkerId == worker.Id) && (RejectedBy is null || !RejectedBy.Contains(worker.Key));
}
