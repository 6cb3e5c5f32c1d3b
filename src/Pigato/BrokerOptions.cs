using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pigato;

/// <summary>Settings of a <see cref="Broker"/>. Immutable: change them with <c>with</c>.</summary>
public sealed record BrokerOptions
{
    /// <summary>The defaults.</summary>
    public static readonly BrokerOptions Default = new();

    /// <summary>The ROUTER endpoint to bind: <c>tcp://*:55555</c> (default), <c>tcp://127.0.0.1:0</c> for an ephemeral port, or <c>inproc://name</c>.</summary>
    public string Endpoint { get; init; } = "tcp://*:55555";

    /// <summary>The broker's socket identity; default <c>B</c> + a uuid.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// The internal PUB channel of core services (<c>$dir</c>); null or empty turns it off. Default <c>tcp://127.0.0.1:0</c>:
    /// an ephemeral port, read from <see cref="Broker.InternalEndpoint"/>, so that brokers on one host never collide. A core
    /// service in another process (PIGATO's own Directory) needs a fixed one: set it, e.g. <c>tcp://127.0.0.1:55550</c>.
    /// </summary>
    public string? InternalEndpoint { get; init; } = "tcp://127.0.0.1:0";

    /// <summary>
    /// The broker answers <c>$dir</c> itself, at once and from its own tables: the ids of a service's workers (data: its
    /// name), or every registered service with its workers (no data), listing only what the requester may request. Off
    /// (the default), <c>$dir</c> is a service like any other (PIGATO's own Directory, a <see cref="DirectoryService"/>).
    /// </summary>
    public bool EnableDirectory { get; init; }

    /// <summary>How often the broker checks worker liveness and expires queued requests. Default 2.5 s.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(2500);

    /// <summary>Heartbeat periods a worker may stay silent before it is purged. Default 3.</summary>
    public int Liveness { get; init; } = 3;

    /// <summary>How the broker picks among available workers. Default <see cref="DispatchMode.Load"/>.</summary>
    public DispatchMode DispatchMode { get; init; } = DispatchMode.Load;

    /// <summary>
    /// Messages NetMQ's ROUTER queues towards one peer (with other schemes than tcp://, or <see cref="Transport"/> NetMQ; the
    /// broker's own transport holds at most 4 MiB unsent per peer instead). Past it the broker never waits: it keeps further
    /// messages in that peer's own outbound queue (<see cref="MaxQueuedPerPeer"/>, counted in <see cref="MaxHeldBytes"/>).
    /// What NetMQ holds is outside the budget, so this bounds it: a peer that reads nothing pins at most this many
    /// messages (with 64 KiB replies, 64 MiB). Default 1,000 (10,000 before 1.0, which let one client that never reads
    /// pin 640 MiB of 64 KiB replies).
    /// </summary>
    public int SendHighWatermark { get; init; } = 1_000;

    /// <summary>
    /// Messages the broker keeps for one peer that is not reading fast enough. A worker with messages waiting is busy
    /// (nothing more is dispatched to it); one more message than this makes the peer a slow consumer: its queue is dropped
    /// (a worker is then disconnected and its requests re-queued or failed). A reply that finds a client's queue full ends
    /// its request with <c>ERR_SLOW_CONSUMER</c> (sent past the bound; the worker is told to stop) rather than leave a
    /// stream with holes. Default 10,000.
    /// </summary>
    public int MaxQueuedPerPeer { get; init; } = 10_000;

    /// <summary>
    /// Bytes of requests one worker may hold unanswered before it counts as busy, whatever its concurrency: what is
    /// dispatched beyond what a worker can process only waits in socket buffers on both sides, outside the memory budget,
    /// ahead of other clients' requests. A worker holding nothing always gets the next request, however large. Default 16 MiB.
    /// </summary>
    public long MaxInFlightBytesPerWorker { get; init; } = 16L * 1024 * 1024;

    /// <summary>Bytes the broker keeps for one peer that is not reading fast enough (see <see cref="MaxQueuedPerPeer"/>). Default 64 MiB.</summary>
    public long MaxQueuedBytesPerPeer { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// How long a message may wait in a peer's outbound queue: a peer whose oldest waiting message is older (it reads
    /// nothing, or reads less than it is sent and falls further behind) is a slow consumer and loses its queue; one that
    /// catches up never is. Default 10 s.
    /// </summary>
    public TimeSpan SlowConsumerTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Largest message accepted from a peer (all its frames), in bytes. A larger request is refused with
    /// <c>ERR_MSG_TOO_LARGE</c>; a worker sending a larger message is disconnected. A single frame over this size plus
    /// 64 KiB is cut by the transport, which closes that connection before anything is allocated. Default 4 MiB.
    /// </summary>
    public int MaxMessageSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// What carries the broker's connections: Pigato's own ZMTP, plain or CURVE, for a <c>tcp://</c> endpoint
    /// (<see cref="ConnectionTransport.Auto"/>, the default: the broker's thread reads and writes the sockets itself), or
    /// NetMQ's ROUTER (<see cref="ConnectionTransport.NetMQ"/>, and always for other schemes).
    /// </summary>
    public ConnectionTransport Transport { get; init; } = ConnectionTransport.Auto;

    /// <summary>Whether .NET clients and workers that announce v2 framing get it (<see cref="Framing.Auto"/>, the default) or stay on PIGATO's frames.</summary>
    public Framing Framing { get; init; } = Framing.Auto;

    /// <summary>Longest service name, in bytes (UTF-8); a longer one is refused with <c>ERR_FRAME_TOO_LONG</c>. Default 255.</summary>
    public int MaxServiceNameLength { get; init; } = 255;

    /// <summary>Longest request id, in bytes; a longer one is refused with <c>ERR_FRAME_TOO_LONG</c>. Default 255.</summary>
    public int MaxRidLength { get; init; } = 255;

    /// <summary>
    /// Bytes the broker may hold for requests (queued or in flight: data, options, ids) before it refuses new ones
    /// with <c>ERR_BROKER_FULL</c>; nothing already accepted is dropped. Default 256 MiB.
    /// </summary>
    public long MaxHeldBytes { get; init; } = 256L * 1024 * 1024;

    /// <summary>Requests one client may have in the broker at once before more are refused with <c>ERR_CLIENT_PENDING_LIMIT</c>. Default 10,000.</summary>
    public int MaxPendingPerClient { get; init; } = 10_000;

    /// <summary>
    /// Bytes one client's requests, and the replies waiting in the broker for it to read them, may hold before more
    /// requests are refused with <c>ERR_CLIENT_BYTES_LIMIT</c>. Default 64 MiB.
    /// </summary>
    public long MaxBytesPerClient { get; init; } = 64L * 1024 * 1024;

    /// <summary>Requests one service's queue may hold before more are refused with <c>ERR_SERVICE_QUEUE_FULL</c>. Default 100,000.</summary>
    public int MaxQueuedPerService { get; init; } = 100_000;

    /// <summary>
    /// Where <c>persist</c> requests are kept so that they survive a broker crash: <c>SqliteRequestStore.At(path)</c>
    /// (package <c>Pigato.Persistence.Sqlite</c>: a file, one broker), <c>RedisRequestStore.At("host:port")</c> (package
    /// <c>Pigato.Persistence.Redis</c>: one Redis shared by several brokers, which take over the requests of a dead one after
    /// its <see cref="StoreLease"/>), or your own <see cref="Persistence.IRequestStore"/>. Null (the default): <c>persist</c>
    /// requests live in memory only; they survive a client's reconnection, not a broker's restart.
    /// </summary>
    public Persistence.RequestStoreFactory? Store { get; init; }

    /// <summary>
    /// Refuse at once, with <c>ERR_NO_WORKERS</c>, a request for a service that no registered worker can serve (its name, a
    /// wildcard or a semver range), unless the request says otherwise (<c>failWithoutWorkers</c>). Default false: PIGATO's
    /// behaviour, the request waits in the queue for a worker until its timeout.
    /// </summary>
    public bool FailWithoutWorkers { get; init; }

    /// <summary><c>persist</c> requests the broker holds at once before more are refused with <c>ERR_STORE_FULL</c>. Default 100,000.</summary>
    public int MaxStoredRequests { get; init; } = 100_000;

    /// <summary>
    /// How long a broker's claim on its requests in a shared (Redis) store lasts without renewal (renewed every third of
    /// it); once it has passed, another broker takes those requests over. Default 10 s.
    /// </summary>
    public TimeSpan StoreLease { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long the final reply of a <c>persist</c> request read back from the store is kept for its client to re-attach
    /// (after a broker restart the client comes back under a new identity); then it is dropped. Default 2 minutes.
    /// </summary>
    public TimeSpan KeptReplyWindow { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How a service's waiting requests are shared among the clients that sent them: round robin across clients (the
    /// default), across principals, or one FIFO (PIGATO's order). Within one client, always first in first out.
    /// </summary>
    public FairQueuing FairQueuing { get; init; } = FairQueuing.PerClient;

    /// <summary>
    /// Poison-request quarantine: a <c>retry</c> or <c>persist</c> request held by this many workers that were lost while
    /// holding it (silent past their liveness, or gone from under a send: a crash, an out-of-memory kill) is not dispatched
    /// again but failed with <see cref="PigatoErrorCodes.Poison"/>. A worker that leaves saying so (DISCONNECT) does not
    /// count. The count travels in the request's options (<c>workersLost</c>, which its handler sees) and so survives a
    /// broker restart for <c>persist</c> requests. Default 2; 0 never quarantines.
    /// </summary>
    public int MaxWorkersLostPerRequest { get; init; } = 2;

    /// <summary>
    /// After a burst, when what the broker holds has fallen to a quarter of its peak (of at least 16 MiB), run one
    /// aggressive compacting garbage collection so that the process gives the memory back. Default true.
    /// </summary>
    public bool TrimMemory { get; init; } = true;

    /// <summary>
    /// The broker's CURVE secret key (Z85, see <see cref="Security.CurveKeys"/>): every connection to the broker, and its
    /// internal PUB channel, is then encrypted, and peers must know its public key. Null (the default): plain text, as
    /// PIGATO for Node.js speaks.
    /// </summary>
    public string? CurveSecretKey { get; init; }

    /// <summary>
    /// Require authentication and enforce these permissions (who may request and serve which services); peers without a
    /// credential are the principal <c>anonymous</c>. Null (the default): everyone may do everything, as in PIGATO.
    /// </summary>
    public Security.Permissions? Permissions { get; init; }

    /// <summary>
    /// A permissions file (JSON, see README): like <see cref="Permissions"/>, and read again when it changes (checked at
    /// every heartbeat tick), so that a revoked principal is refused, and its workers disconnected, within one period.
    /// </summary>
    public string? PermissionsFile { get; init; }

    /// <summary>
    /// Allow authentication without CURVE, so that tokens cross the wire in plain text. For tests on one machine only;
    /// without it, a broker with permissions and no <see cref="CurveSecretKey"/> refuses to start.
    /// </summary>
    public bool AllowInsecureAuthenticationWithoutEncryption { get; init; }

    /// <summary>True when the broker authenticates and authorises peers.</summary>
    public bool RequiresAuthentication => Permissions is not null || PermissionsFile is not null;

    /// <summary>The clock of heartbeats, liveness and expiry (a fake one in tests). Default <see cref="TimeProvider.System"/>.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where log lines go. Default: nowhere.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    internal void Validate()
    {
        if (Permissions is not null && PermissionsFile is not null)
        {
            throw new ArgumentException($"Set Permissions or PermissionsFile ('{PermissionsFile}'), not both: the file would replace the permissions given.", nameof(PermissionsFile));
        }

        ArgumentException.ThrowIfNullOrWhiteSpace(Endpoint, nameof(Endpoint));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeartbeatInterval, TimeSpan.Zero, nameof(HeartbeatInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(Liveness, 1, nameof(Liveness));
        ArgumentOutOfRangeException.ThrowIfLessThan(SendHighWatermark, 0, nameof(SendHighWatermark));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedPerPeer, 1, nameof(MaxQueuedPerPeer));
        if (CurveSecretKey is not null)
        {
            Security.CurveKeys.Certificate(CurveSecretKey);
        }

        if (RequiresAuthentication && CurveSecretKey is null && !AllowInsecureAuthenticationWithoutEncryption)
        {
            throw new ArgumentException(
                "Authentication without CURVE would send tokens in plain text: set CurveSecretKey, or (tests only) AllowInsecureAuthenticationWithoutEncryption.",
                nameof(Permissions));
        }
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedBytesPerPeer, 1, nameof(MaxQueuedBytesPerPeer));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxInFlightBytesPerWorker, 1, nameof(MaxInFlightBytesPerWorker));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SlowConsumerTimeout, TimeSpan.Zero, nameof(SlowConsumerTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageSize, 1024, nameof(MaxMessageSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxServiceNameLength, 1, nameof(MaxServiceNameLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRidLength, 1, nameof(MaxRidLength));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxHeldBytes, 1, nameof(MaxHeldBytes));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingPerClient, 1, nameof(MaxPendingPerClient));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBytesPerClient, 1, nameof(MaxBytesPerClient));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedPerService, 1, nameof(MaxQueuedPerService));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxStoredRequests, 1, nameof(MaxStoredRequests));
        ArgumentOutOfRangeException.ThrowIfLessThan(StoreLease, TimeSpan.FromMilliseconds(300), nameof(StoreLease));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KeptReplyWindow, TimeSpan.Zero, nameof(KeptReplyWindow));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxWorkersLostPerRequest, nameof(MaxWorkersLostPerRequest));
    }
}
