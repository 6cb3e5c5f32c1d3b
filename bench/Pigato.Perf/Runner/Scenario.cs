namespace Pigato.Perf.Runner;

/// <summary>One benchmark scenario.</summary>
/// <param name="Name">Shown in the table.</param>
/// <param name="Mode">throughput, latency or stream.</param>
/// <param name="Count">Requests in total (stream: partial replies).</param>
/// <param name="InFlight">Requests outstanding at once, over all clients.</param>
/// <param name="Size">Payload bytes.</param>
/// <param name="Clients">Client processes.</param>
/// <param name="Workers">Worker processes.</param>
/// <param name="Systems">Which systems run it.</param>
/// <param name="FleetServices">Idle workers on services of their own (broker-scale scenario).</param>
/// <param name="FleetQueued">Requests queued for a service nobody offers (broker-scale scenario).</param>
/// <param name="Brokers">Brokers every worker and client connects to.</param>
/// <param name="Store">The broker's request store for <c>persist</c> requests: <c>sqlite</c>, <c>redis</c>, or none.</param>
/// <param name="Switch">An environment variable set to 1 in every process of the scenario: <see cref="TracingSwitch"/> or <see cref="RdtscSwitch"/>.</param>
internal sealed record Scenario(string Name, string Mode, int Count, int InFlight, int Size, int Clients, int Workers, string[] Systems, int FleetServices = 0, int FleetQueued = 0, int Brokers = 1, string? Store = null, string? Switch = null)
{
    /// <summary>Every process records every span of the <c>Pigato</c> source (an OpenTelemetry tracer provider, always sampling, no exporter).</summary>
    public const string TracingSwitch = "PIGATO_BENCH_TRACE";

    /// <summary>NetMQ finds a time-stamp counter (the bench-only Mono.Posix shim) and throttles its per-frame command check on send.</summary>
    public const string RdtscSwitch = "PIGATO_BENCH_RDTSC";

    public const string Pigato = "pigato";

    /// <summary>
    /// Pigato with <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> in every process: socket completions on the epoll
    /// thread instead of the thread pool. Every other system runs without it (its library defaults).
    /// </summary>
    public const string PigatoInlineCompletions = "pigato-inline-completions";

    /// <summary>The runtime's switch that <see cref="PigatoInlineCompletions"/> sets.</summary>
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Pigato with PIGATO's own frames between .NET peers (<see cref="Framing.V1"/> everywhere): v2's before.</summary>
    public const string PigatoV1 = "pigato-v1";

    /// <summary>Set to <c>v1</c> in the processes of <see cref="PigatoV1"/> (the Pigato roles act on it).</summary>
    public const string FramingVariable = "PIGATO_BENCH_FRAMING";

    /// <summary>Pigato with the worker's handlers and the client's continuations run inline (<see cref="WorkerOptions.RunHandlersInline"/>, <see cref="ClientOptions.RunContinuationsInline"/>).</summary>
    public const string PigatoInline = "pigato-inline";

    /// <summary>Set to 1 in the processes of <see cref="PigatoInline"/> (the Pigato worker role acts on it).</summary>
    public const string InlineVariable = "PIGATO_BENCH_INLINE";

    /// <summary>
    /// Pigato with the payload as bytes on both sides, as the <see cref="Nats"/> roles send theirs: the client calls
    /// <see cref="Client.RequestRawAsync"/> with the JSON string's bytes, the worker (<see cref="Worker.CreateRaw"/>) echoes them
    /// with <see cref="WorkerReply.EndRawAsync(ReadOnlyMemory{byte})"/>. <see cref="Pigato"/> uses the JSON API (a string in,
    /// a <c>JsonElement</c> in the worker, a string back). Echo scenarios only.
    /// </summary>
    public const string PigatoBytes = "pigato-bytes";

    /// <summary>Set to <c>bytes</c> in the processes of <see cref="PigatoBytes"/> (the Pigato roles act on it).</summary>
    public const string PayloadVariable = "PIGATO_BENCH_PAYLOAD";

    /// <summary>Pigato with CURVE encryption on every connection.</summary>
    public const string PigatoCurve = "pigato-curve";

    /// <summary>The benchmark's own broker key pair for <see cref="PigatoCurve"/> (made once per run).</summary>
    public static readonly (string PublicKey, string SecretKey) CurveKeys = global::Pigato.Security.CurveKeys.Generate();
    public const string Forwarder = "forwarder";
    public const string NodeBroker = "node-broker";
    public const string NodeStack = "node";

    /// <summary>PIGATO for Node.js client and worker through Pigato's broker (its PIGATO-frame path).</summary>
    public const string NodePeers = "node-peers";
    public const string Nats = "nats";

    /// <summary>NATS with TLS between every client and nats-server (a certificate the benchmark makes): what encryption costs NATS, beside <see cref="PigatoCurve"/>.</summary>
    public const string NatsTls = "nats-tls";

    /// <summary>The minimal forwarder driven by raw-socket PIGATO peers: the ceiling of PIGATO's framing.</summary>
    public const string ForwarderRaw = "forwarder-raw";

    /// <summary>
    /// The minimal forwarder driven by raw PIGATO peers that speak ZMTP themselves on a plain TCP socket (no NetMQ, no
    /// I/O thread in the client and the worker): what NetMQ's threads cost the peers, beside <see cref="ForwarderRaw"/>.
    /// </summary>
    public const string ZmtpRaw = "zmtp-raw";

    /// <summary>The lean-framing prototype (one body frame) with raw peers: what a leaner format would gain.</summary>
    public const string LeanRaw = "lean-raw";

    /// <summary>The same lean prototype on native libzmq (Debian's libzmq5 through P/Invoke): NetMQ's share of the cost.</summary>
    public const string LeanZmq = "lean-zmq";

    /// <summary>Every scenario of the issue; <paramref name="scale"/> divides the counts (quick and smoke modes).</summary>
    public static List<Scenario> All(int scale)
    {
        string[] everyone = [Forwarder, Pigato, PigatoInlineCompletions, PigatoV1, PigatoInline, NodeBroker, NodeStack, NodePeers, Nats, ForwarderRaw, ZmtpRaw, LeanRaw, LeanZmq];
        int N(int n) => Math.Max(n / scale, 100);
        return
        [
            new("1 throughput 3 B", "throughput", N(200_000), 1000, 3, 1, 1, [.. everyone, PigatoBytes, PigatoCurve, NatsTls]),
            new("1 throughput 1 KiB", "throughput", N(200_000), 1000, 1024, 1, 1, [Forwarder, Pigato, PigatoBytes, PigatoV1, PigatoInline, PigatoCurve, NodeBroker, NodePeers, Nats, NatsTls, ForwarderRaw, ZmtpRaw, LeanRaw, LeanZmq]),
            new("2 latency 3 B", "latency", N(5_000), 1, 3, 1, 1, [.. everyone, PigatoBytes, PigatoCurve, NatsTls]),
            new("2 latency 3 B, starved pool", "latency-starved", N(5_000), 1, 3, 1, 1, [Pigato, PigatoInlineCompletions, PigatoInline, Nats]),
            new("3 4 clients x 2 workers", "throughput", N(200_000), 1000, 3, 4, 2, [Forwarder, Pigato, PigatoBytes, PigatoInlineCompletions, PigatoV1, PigatoInline, NodeBroker, Nats]),
            new("4 stream 1 KiB partials", "stream", N(100_000), 1, 1024, 1, 1, [Pigato, PigatoV1, PigatoInline, NodeBroker]),
            new("5 scale: 1 service", "throughput", N(50_000), 1000, 3, 1, 1, [Pigato]),
            new("5 scale: +100 services/workers", "throughput", N(50_000), 1000, 3, 1, 1, [Pigato], FleetServices: 100),
            new("5 scale: +1000 services/workers", "throughput", N(50_000), 1000, 3, 1, 1, [Pigato], FleetServices: 1000),
            new("5 scale: +10000 queued", "throughput", N(50_000), 1000, 3, 1, 1, [Pigato], FleetQueued: 10_000),
            new("6 brokers: 1 (2 clients x 2 workers)", "throughput", N(100_000), 1000, 3, 2, 2, [Pigato]),
            new("6 brokers: 2 (2 clients x 2 workers)", "throughput", N(100_000), 1000, 3, 2, 2, [Pigato], Brokers: 2),
            new("6 brokers: 3 (2 clients x 2 workers)", "throughput", N(100_000), 1000, 3, 2, 2, [Pigato], Brokers: 3),
            new("7 failover: kill -9 1 of 3 brokers", "failover", N(50_000), 1000, 3, 1, 2, [Pigato], Brokers: 3),
            new("8 durable: plain requests", "throughput", N(50_000), 1000, 3, 1, 1, [Pigato]),
            new("8 durable: persist, no store", "persist", N(50_000), 1000, 3, 1, 1, [Pigato]),
            new("8 durable: persist on SQLite", "persist", N(50_000), 1000, 3, 1, 1, [Pigato], Store: "sqlite"),
            new("8 durable: persist on Redis", "persist", N(50_000), 1000, 3, 1, 1, [Pigato], Store: "redis"),
            new("9 tracing: off (no listener)", "throughput", N(50_000), 1000, 3, 1, 1, [Pigato]),
            new("9 tracing: on (every span recorded)", "throughput", N(50_000), 1000, 3, 1, 1, [Pigato], Switch: TracingSwitch),
            new("10 NetMQ as shipped (a poll per frame sent)", "throughput", N(100_000), 1000, 3, 1, 1, [Pigato, Forwarder]),
            new("10 NetMQ send throttled (rdtsc shim, bench only)", "throughput", N(100_000), 1000, 3, 1, 1, [Pigato, Forwarder], Switch: RdtscSwitch),
        ];
    }
}
