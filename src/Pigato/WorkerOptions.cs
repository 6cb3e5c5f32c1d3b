using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pigato;

/// <summary>Settings of a <see cref="Worker"/>. Immutable: change them with <c>with</c>.</summary>
public sealed record WorkerOptions
{
    /// <summary>The defaults.</summary>
    public static readonly WorkerOptions Default = new();

    /// <summary>The endpoint of a broker started with its defaults: <c>tcp://127.0.0.1:55555</c>.</summary>
    public const string DefaultEndpoint = "tcp://127.0.0.1:55555";

    /// <summary>The broker to connect to; null (the default) for <see cref="DefaultEndpoint"/>. Set this or <see cref="Endpoints"/>, not both.</summary>
    public string? Endpoint { get; init; }

    /// <summary>
    /// Several brokers, for no single point of failure: the worker connects to every one (README: Several brokers).
    /// Empty (the default) means <see cref="Endpoint"/> alone. Set this or <see cref="Endpoint"/>, not both.
    /// </summary>
    public IReadOnlyList<string> Endpoints { get; init; } = [];

    /// <summary>
    /// The DNS server that broker names (<c>dns://NAME:PORT</c>, <c>dns+srv://NAME</c> in <see cref="Endpoints"/>) are
    /// looked up on: an IP address, with <c>:PORT</c> when not 53. Null (the default): the system's.
    /// </summary>
    public string? DnsServer { get; init; }

    /// <summary>
    /// How often broker names are looked up again: the worker connects to brokers that appear and lets those that
    /// disappear go as it lets a lost broker go. Default 5 s.
    /// </summary>
    public TimeSpan DnsRefreshInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Also count a broker as lost the moment its TCP connection drops (a socket monitor), not only after
    /// <see cref="Liveness"/> silent periods. Null (the default): on when several brokers are configured, where failing
    /// over at once matters; off for one broker, where ZeroMQ reconnecting the same session may still save its requests.
    /// </summary>
    public bool? DetectDisconnect { get; init; }

    /// <summary>The brokers to connect to: <see cref="Endpoints"/>, or <see cref="Endpoint"/> when that is empty.</summary>
    internal IReadOnlyList<string> Brokers => Endpoints.Count > 0 ? Endpoints : [Endpoint ?? DefaultEndpoint];

    /// <summary>The service offered: a name, a wildcard <c>prefix*</c>, or a version <c>name@1.2.3</c>. Required.</summary>
    public string Service { get; init; } = "";

    /// <summary>Identity prefix; the worker id is <c>prefix-uuid</c>, renewed at every (re)connection. Default <c>W</c> + a uuid.</summary>
    public string? Prefix { get; init; }

    /// <summary>The <see cref="Concurrency"/> that sets no limit (PIGATO's <c>-1</c>).</summary>
    public const int UnlimitedConcurrency = -1;

    /// <summary>
    /// How many requests this worker's handlers run at once, at most: the broker sends no more until one ends. Default 100;
    /// <see cref="UnlimitedConcurrency"/> (-1) for no limit, 1 for one at a time. Change it at run time with
    /// <see cref="Worker.Concurrency"/> (the broker hears of it with the next heartbeat).
    /// </summary>
    public int Concurrency { get; init; } = 100;

    /// <summary>How often the worker heartbeats the broker. Default 2.5 s.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(2500);

    /// <summary>Heartbeat periods without any message from the broker before the worker reconnects; also how many periods a request stays active without a request heartbeat. Default 3.</summary>
    public int Liveness { get; init; } = 3;

    /// <summary>Pause before reconnecting after the broker went silent. Default 100 ms.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Replies queued towards the socket before <see cref="WorkerReply.WriteAsync{T}(T, CancellationToken)"/> waits (back-pressure). Default 1,000.</summary>
    public int MaxQueuedReplies { get; init; } = 1000;

    /// <summary>
    /// How long <see cref="Worker.StopAsync"/> lets requests in flight finish: the worker first tells the
    /// broker it takes no more (concurrency 0) and rejects any request that still arrives, then waits for
    /// its handlers up to this long, rejects what is left (the broker hands it to another worker) and
    /// disconnects. Default zero: stop at once (requests in flight are retried or failed by the broker).
    /// </summary>
    public TimeSpan ShutdownGracePeriod { get; init; } = TimeSpan.Zero;

    /// <summary>How request data and replies are (de)serialized. Default <see cref="JsonSerializerOptions.Web"/>.</summary>
    public JsonSerializerOptions SerializerOptions { get; init; } = JsonSerializerOptions.Web;

    /// <summary>The brokers' CURVE public key (Z85): the worker then encrypts its connections and talks only to a broker holding the matching secret key. Null (the default): plain text.</summary>
    public string? CurveServerKey { get; init; }

    /// <summary>The credential the worker presents to brokers that require authentication (sent once per connection, inside CURVE). Null: anonymous.</summary>
    public Security.PigatoCredential? Credential { get; init; }

    /// <summary>
    /// Whether the worker announces the v2 framing (docs/PROTOCOL-V2.md) and uses it with brokers that agree
    /// (<see cref="Framing.Auto"/>, the default), or keeps to PIGATO's frames. Brokers that are not Pigato for .NET never agree.
    /// </summary>
    public Framing Framing { get; init; } = Framing.Auto;

    /// <summary>
    /// What carries the connections to brokers: Pigato's own ZMTP, plain or CURVE, for <c>tcp://</c> brokers
    /// (<see cref="ConnectionTransport.Auto"/>, the default), or NetMQ for all (<see cref="ConnectionTransport.NetMQ"/>).
    /// </summary>
    public ConnectionTransport Transport { get; init; } = ConnectionTransport.Auto;

    /// <summary>
    /// Starts every handler on the worker's own thread as soon as its request is read, and sends what it replies there at
    /// once, whatever the handler does. Default false: handlers start on the worker's thread too, but once the messages of
    /// that wake-up are read (up to 1 ms of handlers per wake-up; the rest on the thread pool), and a handler that holds
    /// the thread longer than 50 ms loses it: the worker's loop moves to a new thread and goes on
    /// (<see cref="PigatoLogEvents.UserCodeHeldLoop"/>), so a blocking handler never stalls the worker. With this option
    /// nothing moves the loop: only for handlers that never block before their first incomplete <c>await</c> (after it,
    /// they continue on the thread pool); while one holds the thread, no other request, reply or heartbeat of the worker
    /// moves. A handler holding it longer than 50 ms is logged (<see cref="PigatoLogEvents.InlineHandlerBlocked"/>, at
    /// most once a second).
    /// </summary>
    public bool RunHandlersInline { get; init; }

    /// <summary>
    /// The clock of request deadlines and of the handler timings (a fake one in tests). Default
    /// <see cref="TimeProvider.System"/>. Heartbeats and request liveness are paced by the worker's loop.
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
        ArgumentException.ThrowIfNullOrWhiteSpace(Service, nameof(Service));
        ArgumentOutOfRangeException.ThrowIfLessThan(Concurrency, -1, nameof(Concurrency));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(HeartbeatInterval, TimeSpan.Zero, nameof(HeartbeatInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(Liveness, 1, nameof(Liveness));
        foreach (var broker in Brokers)
        {
            Internal.BrokerDiscovery.Validate(broker, nameof(Endpoints));
        }

        Internal.BrokerDiscovery.ValidateNameServer(DnsServer, nameof(DnsServer));
        ArgumentOutOfRangeException.ThrowIfLessThan(DnsRefreshInterval, TimeSpan.FromMilliseconds(100), nameof(DnsRefreshInterval));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReconnectDelay, TimeSpan.Zero, nameof(ReconnectDelay));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedReplies, 1, nameof(MaxQueuedReplies));
        ArgumentOutOfRangeException.ThrowIfLessThan(ShutdownGracePeriod, TimeSpan.Zero, nameof(ShutdownGracePeriod));
    }
}
