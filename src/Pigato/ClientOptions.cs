using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pigato;

/// <summary>Settings of a <see cref="Client"/>. Immutable: change them with <c>with</c>.</summary>
public sealed record ClientOptions
{
    /// <summary>The defaults.</summary>
    public static readonly ClientOptions Default = new();

    /// <summary>The endpoint of a broker started with its defaults: <c>tcp://127.0.0.1:55555</c>.</summary>
    public const string DefaultEndpoint = "tcp://127.0.0.1:55555";

    /// <summary>The broker to connect to; null (the default) for <see cref="DefaultEndpoint"/>. Set this or <see cref="Endpoints"/>, not both.</summary>
    public string? Endpoint { get; init; }

    /// <summary>
    /// Several brokers, for no single point of failure: the client connects to every one (README: Several brokers).
    /// Empty (the default) means <see cref="Endpoint"/> alone. Set this or <see cref="Endpoint"/>, not both.
    /// </summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary>
    /// The DNS server that broker names (<c>dns://NAME:PORT</c>, <c>dns+srv://NAME</c> in <see cref="Endpoints"/>) are
    /// looked up on: an IP address, with <c>:PORT</c> when not 53. Null (the default): the system's.
    /// </summary>
    public string? DnsServer { get; init; }

    /// <summary>
    /// How often broker names are looked up again: the client connects to brokers that appear and lets those that
    /// disappear go as it lets a lost broker go. Default 5 s.
    /// </summary>
    public TimeSpan DnsRefreshInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Also count a broker as lost the moment its TCP connection drops (a socket monitor), not only after
    /// <see cref="Liveness"/> silent periods. Null (the default): on when several brokers are configured, where failing
    /// over at once matters; off for one broker, where ZeroMQ reconnecting the same session may still save its requests.
    /// </summary>
    public bool? DetectDisconnect { get; init; }

    /// <summary>
    /// When no broker is live (none has answered on its current connection), fail a request at once with
    /// <c>ERR_NO_BROKER</c> instead of keeping it until a broker answers or its timeout passes. Default false.
    /// </summary>
    public bool FailFastWithoutBroker { get; init; }

    /// <summary>
    /// The default of <see cref="RequestOptions.FailWithoutWorkers"/> for this client's requests: fail at once with
    /// <c>ERR_NO_WORKERS</c> when no worker can serve the service. Null (the default): the broker decides
    /// (<see cref="BrokerOptions.FailWithoutWorkers"/>, itself off: PIGATO's queue-until-timeout).
    /// </summary>
    public bool? FailWithoutWorkers { get; init; }

    /// <summary>The brokers to connect to: <see cref="Endpoints"/>, or <see cref="Endpoint"/> when that is empty.</summary>
    internal IReadOnlyList<string> Brokers => Endpoints.Count > 0 ? Endpoints : [Endpoint ?? DefaultEndpoint];

    /// <summary>Identity prefix; the socket identity is <c>prefix-uuid</c>, renewed at every (re)start. Default <c>C</c> + a uuid.</summary>
    public string? Prefix { get; init; }

    /// <summary>How often the client heartbeats the broker. Default 2.5 s.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(2500);

    /// <summary>Heartbeat periods without any message from the broker before the client reconnects. Default 3.</summary>
    public int Liveness { get; init; } = 3;

    /// <summary>Pause before reconnecting after the broker went silent. Default 100 ms.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Timeout of requests that set none: time without any reply. Default 60 s; <see cref="Timeout.InfiniteTimeSpan"/> for none.</summary>
    public TimeSpan DefaultTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Send a request heartbeat, at every heartbeat period, for each request pending longer than one period,
    /// so that workers see long requests as active (<see cref="WorkerReply.IsActive"/>). Default true.
    /// </summary>
    public bool HeartbeatRequests { get; init; } = true;

    /// <summary>
    /// Requests pending at once; one more fails at once with <c>ERR_CLIENT_BUSY</c> (a <see cref="PigatoException"/>), so
    /// that a producer faster than its services learns it instead of growing the client's memory. Default 100,000.
    /// </summary>
    public int MaxPendingRequests { get; init; } = 100_000;

    /// <summary>Largest request (all frames) the client sends, and largest reply it reads; a larger request fails at once with <c>ERR_MSG_TOO_LARGE</c>. Default 4 MiB.</summary>
    public int MaxMessageSize { get; init; } = 4 * 1024 * 1024;

    /// <summary>
    /// Replies a streamed request (<see cref="Client.RequestStreamAsync{TResult}"/>) buffers for a reader that is behind;
    /// one more ends the stream with <c>ERR_SLOW_CONSUMER</c> and abandons the request. Default 10,000.
    /// </summary>
    public int MaxBufferedReplies { get; init; } = 10_000;

    /// <summary>How request data and replies are (de)serialized. Default <see cref="JsonSerializerOptions.Web"/>.</summary>
    public JsonSerializerOptions SerializerOptions { get; init; } = JsonSerializerOptions.Web;

    /// <summary>The brokers' CURVE public key (Z85): the client then encrypts its connections and talks only to a broker holding the matching secret key. Null (the default): plain text.</summary>
    public string? CurveServerKey { get; init; }

    /// <summary>The credential the client presents to brokers that require authentication (sent once per connection, inside CURVE). Null: anonymous.</summary>
    public Security.PigatoCredential? Credential { get; init; }

    /// <summary>
    /// Whether the client announces the v2 framing (docs/PROTOCOL-V2.md) and uses it with brokers that agree
    /// (<see cref="Framing.Auto"/>, the default), or keeps to PIGATO's frames. Brokers that are not Pigato for .NET never agree.
    /// </summary>
    public Framing Framing { get; init; } = Framing.Auto;

    /// <summary>
    /// What carries the connections to brokers: Pigato's own ZMTP, plain or CURVE, for <c>tcp://</c> brokers
    /// (<see cref="ConnectionTransport.Auto"/>, the default), or NetMQ for all (<see cref="ConnectionTransport.NetMQ"/>).
    /// </summary>
    public ConnectionTransport Transport { get; init; } = ConnectionTransport.Auto;

    /// <summary>
    /// Runs the code awaiting <see cref="IPigatoClient.RequestAsync{TResult}"/> or <see cref="IPigatoClient.RequestRawAsync"/>
    /// on the client's own thread as soon as the request ends, and sends the requests it makes there at once, whatever that
    /// code does. Default false: callers continue on the client's thread too, but once the replies of that wake-up are read
    /// (up to 1 ms of such code per wake-up; the rest on the thread pool), and code that holds the thread longer than 50 ms
    /// loses it: the client's loop moves to a new thread and goes on (<see cref="PigatoLogEvents.UserCodeHeldLoop"/>), so
    /// even a synchronous wait there for another request (<c>.Result</c>) is answered. With this option nothing moves the
    /// loop: only for callers that never block before their next incomplete <c>await</c>; while such code holds the
    /// client's thread, no reply, timeout or heartbeat of the client moves, and waiting there for another request's result
    /// deadlocks. A caller with a synchronization context of its own (a UI thread) continues on it either way.
    /// </summary>
    public bool RunContinuationsInline { get; init; }

    /// <summary>
    /// The clock of request timeouts, deadlines and request heartbeats (a fake one in tests). Default
    /// <see cref="TimeProvider.System"/>. Heartbeats themselves are paced by the client's loop.
    /// </summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where log lines go. Default: nowhere.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    internal void Validate()
    {
        if (CurveServerKey is not null)
        {
            Security.CurveKeys.PublicKeyBytes(CurveServerKey);
        }

        ArgumentNullException.ThrowIfNull(Endpoints, nameof(Endpoints));
        if (Endpoint is not null)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(Endpoint, nameof(Endpoint));
            if (Endpoints.Count > 0)
            {
                throw new ArgumentException($"Set Endpoint (one broker) or Endpoints (several), not both: Endpoint '{Endpoint}' would be ignored.", nameof(Endpoint));
            }
        }

        foreach (var endpoint in Endpoints)
        {
            ArgumentException.ThrowIfNullOrWhiteSpace(endpoint, nameof(Endpoints));
        }

        if (Endpoints.Distinct(StringComparer.Ordinal).Count() != Endpoints.Count)
        {
            throw new ArgumentException("Each broker endpoint may appear once.", nameof(Endpoints));
        }
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeartbeatInterval, TimeSpan.Zero, nameof(HeartbeatInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(Liveness, 1, nameof(Liveness));
        foreach (var broker in Brokers)
        {
            Internal.BrokerDiscovery.Validate(broker, nameof(Endpoints));
        }

        Internal.BrokerDiscovery.ValidateNameServer(DnsServer, nameof(DnsServer));
        ArgumentOutOfRangeException.ThrowIfLessThan(DnsRefreshInterval, TimeSpan.FromMilliseconds(100), nameof(DnsRefreshInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconnectDelay, TimeSpan.Zero, nameof(ReconnectDelay));
        RequestOptions.ValidateTimeout(DefaultTimeout, nameof(DefaultTimeout));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingRequests, 1, nameof(MaxPendingRequests));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageSize, 1024, nameof(MaxMessageSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBufferedReplies, 1, nameof(MaxBufferedReplies));
    }
}
