namespace Pigato;

/// <summary>The stable error codes of PIGATO, as strings that travel on the wire or in error events.</summary>
public static class PigatoErrorCodes
{
    /// <summary>A request had no activity for longer than its timeout (client side).</summary>
    public const string Timeout = "C_TIMEOUT";

    /// <summary>The first frame is not the expected side header.</summary>
    public const string MessageHeader = "ERR_MSG_HEADER";

    /// <summary>A message has too few frames for its type.</summary>
    public const string MessageLength = "ERR_MSG_LENGTH";

    /// <summary>A reply refers to a request id that is not pending.</summary>
    public const string RequestInvalid = "ERR_REQ_INVALID";

    /// <summary>The message type is unknown or not allowed from this side.</summary>
    public const string MessageType = "ERR_MSG_TYPE";

    /// <summary>A worker sent a message out of protocol (not registered, or a request it does not hold); it is disconnected.</summary>
    public const string WorkerProtocol = "ERR_WORKER_PROTOCOL";

    /// <summary>A message could not be delivered to a peer (gone, or its queue stayed full).</summary>
    public const string Unroutable = "ERR_UNROUTABLE";

    /// <summary>
    /// Error value of a final reply sent by the broker when the worker that held a request was lost
    /// (disconnected, purged for silence, or disconnected for a protocol violation) and the request
    /// did not ask for <c>retry</c>.
    /// </summary>
    public const string WorkerLost = "ERR_WORKER_LOST";

    /// <summary>
    /// Error value of a final reply sent by the broker for a <c>retry</c> or <c>persist</c> request that was held by
    /// <see cref="BrokerOptions.MaxWorkersLostPerRequest"/> workers lost while they held it (their process crashed or went
    /// silent): it is not dispatched again, so that one bad request cannot take down worker after worker.
    /// </summary>
    public const string Poison = "ERR_POISON";

    /// <summary>
    /// The broker holding a request without <c>retry</c> was lost (silent for the liveness, or its connection dropped):
    /// its reply can no longer arrive. A <c>retry</c> request is sent to another live broker instead.
    /// </summary>
    public const string BrokerLost = "ERR_BROKER_LOST";

    /// <summary>Error value a worker sends when its handler failed unexpectedly (the exception is logged, not sent).</summary>
    public const string HandlerFailed = "ERR_WORKER_HANDLER";

    /// <summary>The request data could not be read as the handler's data type.</summary>
    public const string InvalidData = "ERR_INVALID_DATA";

    /// <summary>The broker stopped while it held the request (error value of the broker's final reply).</summary>
    public const string BrokerStopped = "ERR_BROKER_STOPPED";

    /// <summary>No broker was live when the request was sent, and the client fails fast (<see cref="ClientOptions.FailFastWithoutBroker"/>).</summary>
    public const string NoBroker = "ERR_NO_BROKER";

    /// <summary>
    /// No registered worker can serve the request's service (its name, a wildcard or a semver range), and the request asked
    /// to fail at once rather than wait (<see cref="RequestOptions.FailWithoutWorkers"/>); with several brokers, none of them has one.
    /// </summary>
    public const string NoWorkers = "ERR_NO_WORKERS";

    /// <summary>A CURVE key file is missing or holds no valid key.</summary>
    public const string CurveKey = "ERR_CURVE_KEY";

    /// <summary>
    /// The broker's TCP port answers but no PIGATO message comes back: the secure handshake fails (most likely a wrong
    /// CURVE server key, or CURVE on one side only). Requests sent on that connection fail with it.
    /// </summary>
    public const string Handshake = "ERR_HANDSHAKE";

    /// <summary>The broker requires authentication and the peer presented no valid credential (a request is refused; a worker is disconnected).</summary>
    public const string Unauthenticated = "ERR_UNAUTHENTICATED";

    /// <summary>The peer's principal may not request (or serve) this service.</summary>
    public const string Forbidden = "ERR_FORBIDDEN";

    /// <summary>A permissions file cannot be read or is not valid.</summary>
    public const string PermissionsInvalid = "ERR_PERMISSIONS";

    /// <summary>The client stopped while the request was pending.</summary>
    public const string ClientStopped = "ERR_CLIENT_STOPPED";

    /// <summary>The client failed a request for another reason (the inner exception says which).</summary>
    public const string Client = "ERR_CLIENT";

    /// <summary>Reason of the rejection a stopping worker sends for requests it could not finish.</summary>
    public const string WorkerStopping = "ERR_WORKER_STOPPING";

    /// <summary>Reason of the rejection a worker sends for a request that arrived while it already runs <see cref="Worker.Concurrency"/> handlers (the broker hands it to another worker).</summary>
    public const string WorkerBusy = "ERR_WORKER_BUSY";

    /// <summary>An error reply whose error value is not a string.</summary>
    public const string Reply = "ERR_REPLY";

    /// <summary>The broker cannot bind one of its endpoints.</summary>
    public const string Bind = "ERR_BIND";

    /// <summary>An unexpected failure inside an actor's loop; the actor keeps running.</summary>
    public const string Internal = "ERR_INTERNAL";

    /// <summary>A call reached an actor (broker, client, worker) that is not running: not started yet, or stopped.</summary>
    public const string NotRunning = "ERR_NOT_RUNNING";

    /// <summary>The broker refused a request: it holds <see cref="BrokerOptions.MaxHeldBytes"/> for requests already.</summary>
    public const string BrokerFull = "ERR_BROKER_FULL";

    /// <summary>The broker refused a request: its client has <see cref="BrokerOptions.MaxPendingPerClient"/> requests in the broker already.</summary>
    public const string ClientPendingLimit = "ERR_CLIENT_PENDING_LIMIT";

    /// <summary>The broker refused a request: its client's requests hold <see cref="BrokerOptions.MaxBytesPerClient"/> in the broker already.</summary>
    public const string ClientBytesLimit = "ERR_CLIENT_BYTES_LIMIT";

    /// <summary>The broker refused a request: its service's queue holds <see cref="BrokerOptions.MaxQueuedPerService"/> requests already.</summary>
    public const string ServiceQueueFull = "ERR_SERVICE_QUEUE_FULL";

    /// <summary>A message is larger than the receiver's maximum message size (broker: <see cref="BrokerOptions.MaxMessageSize"/>; client: <see cref="ClientOptions.MaxMessageSize"/>).</summary>
    public const string MessageTooLarge = "ERR_MSG_TOO_LARGE";

    /// <summary>A service name or request id is longer than the broker accepts (<see cref="BrokerOptions.MaxServiceNameLength"/>, <see cref="BrokerOptions.MaxRidLength"/>).</summary>
    public const string FrameTooLong = "ERR_FRAME_TOO_LONG";

    /// <summary>The request's client went silent for the broker's liveness: the broker dropped its queued requests.</summary>
    public const string ClientLost = "ERR_CLIENT_LOST";

    /// <summary>A request stayed at its worker past its timeout plus a grace period without a final reply: the broker freed the worker's slot.</summary>
    public const string WorkerTimeout = "ERR_WORKER_TIMEOUT";

    /// <summary>The client refused a request locally: it has <see cref="ClientOptions.MaxPendingRequests"/> pending already.</summary>
    public const string ClientBusy = "ERR_CLIENT_BUSY";

    /// <summary>A streamed request's reader fell <see cref="ClientOptions.MaxBufferedReplies"/> replies behind: the stream ends with this error.</summary>
    public const string SlowConsumer = "ERR_SLOW_CONSUMER";

    /// <summary>The directory service has no snapshot from the broker yet.</summary>
    public const string DirectoryUnavailable = "ERR_DIRECTORY_UNAVAILABLE";

    /// <summary>A <c>persist</c> request refused: the broker holds as many stored requests as <c>BrokerOptions.MaxStoredRequests</c> allows.</summary>
    public const string StoreFull = "ERR_STORE_FULL";

    /// <summary>A <c>persist</c> request refused: the request store cannot be written (Redis down, disk full, lease lost); other requests still flow.</summary>
    public const string StoreUnavailable = "ERR_STORE_UNAVAILABLE";

    /// <summary>The broker does not start: its request store is unreadable or corrupt (the message names the file).</summary>
    public const string StoreCorrupt = "ERR_STORE_CORRUPT";

    /// <summary>
    /// The caller cancelled the request (<see cref="Client.CancelRequest"/>, or a cancelled token, given to callbacks as
    /// this code): the broker drops it if still queued and tells the worker holding it, whose token trips.
    /// </summary>
    public const string Cancelled = "ERR_CANCELLED";
}
