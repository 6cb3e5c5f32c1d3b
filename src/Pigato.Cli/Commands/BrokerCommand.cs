using System.CommandLine;

namespace Pigato.Cli.Commands;

/// <summary><c>pigato broker</c>: runs a broker (with <c>$dir</c>) until Ctrl+C or SIGTERM.</summary>
internal static class BrokerCommand
{
    /// <summary>Room left above the message limit for the transport's frame allowance.</summary>
    private const int SocketSlack = 1024 * 1024;

    public static Command Create()
    {
        var bind = new Option<string>("--bind") { Description = "Endpoint to bind.", DefaultValueFactory = _ => "tcp://*:55555" };
        var intch = new Option<string>("--intch") { Description = "Internal PUB channel of core services (default: an ephemeral port, logged at start; give a fixed one, e.g. tcp://127.0.0.1:55550, for a core service in another process).", DefaultValueFactory = _ => "tcp://127.0.0.1:0" };
        var heartbeat = Cli.DurationOption("--heartbeat", "Heartbeat period", TimeSpan.FromMilliseconds(2500));
        var liveness = new Option<int>("--liveness") { Description = "Heartbeat periods a worker may stay silent.", DefaultValueFactory = _ => 3 };
        liveness.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 1)
            {
                r.AddError("--liveness must be at least 1.");
            }
        });
        var dmode = new Option<string>("--dmode") { Description = "How to pick a worker: load (fewest in flight) or rand.", DefaultValueFactory = _ => "load" };
        dmode.AcceptOnlyFromAmong("load", "rand");
        var defaults = BrokerOptions.Default;
        var fairQueuing = new Option<string>("--fair-queuing") { Description = "How a service's waiting requests are shared: client (round robin across clients), principal (across principals), or none (one FIFO, as PIGATO).", DefaultValueFactory = _ => "client" };
        fairQueuing.AcceptOnlyFromAmong("client", "principal", "none");
        var maxWorkersLost = new Option<int>("--max-workers-lost") { Description = "Workers lost while holding a retry or persist request before it is quarantined (ERR_POISON); 0 never.", DefaultValueFactory = _ => defaults.MaxWorkersLostPerRequest };
        maxWorkersLost.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() < 0)
            {
                r.AddError("--max-workers-lost must be 0 or more.");
            }
        });
        var noDirectory = new Option<bool>("--no-directory") { Description = "Do not run the $dir directory service." };
        var verbose = Cli.VerboseOption();
        var trace = Cli.TraceOption();
        var maxHeld = Cli.SizeOption("--max-held", "Bytes held for requests before new ones are refused (ERR_BROKER_FULL)", defaults.MaxHeldBytes);
        var maxMessage = Cli.SizeOption("--max-message", "Largest message accepted (ERR_MSG_TOO_LARGE)", defaults.MaxMessageSize);
        var maxClientPending = Cli.CountOption("--max-client-pending", "Requests one client may have in the broker (ERR_CLIENT_PENDING_LIMIT).", defaults.MaxPendingPerClient);
        var maxClientBytes = Cli.SizeOption("--max-client-bytes", "Bytes one client's requests may hold (ERR_CLIENT_BYTES_LIMIT)", defaults.MaxBytesPerClient);
        var transport = new Option<string>("--transport") { Description = "What carries the connections: auto (Pigato's own ZMTP, plain or CURVE, for tcp://) or netmq.", DefaultValueFactory = _ => "auto" };
        transport.AcceptOnlyFromAmong("auto", "netmq");
        var maxWorkerBytes = Cli.SizeOption("--max-worker-bytes", "Bytes of requests one worker may hold unanswered before it counts as busy", defaults.MaxInFlightBytesPerWorker);
        var maxServiceQueue = Cli.CountOption("--max-service-queue", "Requests one service's queue may hold (ERR_SERVICE_QUEUE_FULL).", defaults.MaxQueuedPerService);
        var maxPeerQueue = Cli.CountOption("--max-peer-queue", "Messages kept for a peer that reads too slowly, before it is a slow consumer.", defaults.MaxQueuedPerPeer);
        var curveSecret = new Option<FileInfo?>("--curve-secret") { Description = "The broker's secret key file (NAME.key_secret from pigato keygen): encrypt every connection with CURVE." };
        var permissions = new Option<FileInfo?>("--permissions") { Description = "Require authentication and enforce this permissions file (JSON; re-read when it changes). Needs --curve-secret." };
        var store = new Option<string?>("--store")
        {
            Description = "Keep persist requests in a store that survives a crash: sqlite:PATH (a file, one broker) or redis:HOST:PORT (shared by several brokers, which take over a dead one's requests).",
        };
        var maxStored = Cli.CountOption("--max-stored", "Persist requests the broker holds at once (ERR_STORE_FULL).", defaults.MaxStoredRequests);
        var storeLease = Cli.DurationOption("--store-lease", "How long a broker's claim in a shared store lasts unrenewed before another takes its requests over", defaults.StoreLease);
        var http = new Option<string?>("--http")
        {
            Description = "Serve the management endpoint (dashboard /, /api/stats, /metrics, /healthz) at PORT, HOST:PORT or http://HOST:PORT; PORT alone is loopback.",
        };
        var httpToken = new Option<string?>("--http-token")
        {
            Description = "The token the management endpoint requires (default: none, or a random one, logged, when the broker requires authentication). Also PIGATO_HTTP_TOKEN.",
        };
        var slowConsumer = Cli.DurationOption("--slow-consumer", "How long messages may wait for a peer that reads nothing", defaults.SlowConsumerTimeout);

        var command = new Command("broker", "Run a broker until Ctrl+C or SIGTERM.")
        {
            bind, intch, heartbeat, liveness, dmode, fairQueuing, maxWorkersLost, noDirectory, verbose, trace,
            maxHeld, maxMessage, maxClientPending, maxClientBytes, maxWorkerBytes, transport, maxServiceQueue, maxPeerQueue, slowConsumer, curveSecret, permissions,
            store, maxStored, storeLease, http, httpToken,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            using var logging = Cli.Logging(parse.GetValue(verbose));
            using var tracing = Cli.Tracing(parse.GetValue(trace));
            string? curveSecretKey;
            try
            {
                curveSecretKey = parse.GetValue(curveSecret) is { } file ? Security.CurveKeys.ReadSecretKey(file.FullName) : null;
            }
            catch (PigatoException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("error: " + e.Message);
                return 1;
            }

            Persistence.RequestStoreFactory? storeFactory;
            try
            {
                storeFactory = parse.GetValue(store) is { } spec ? StoreSpec.Parse(spec) : null;
            }
            catch (ArgumentException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("error: " + e.Message);
                return PigatoCli.UsageError;
            }

            var options = new BrokerOptions
            {
                CurveSecretKey = curveSecretKey,
                PermissionsFile = parse.GetValue(permissions)?.FullName,
                Endpoint = parse.GetValue(bind)!,
                InternalEndpoint = parse.GetValue(intch),
                HeartbeatInterval = parse.GetValue(heartbeat),
                Liveness = parse.GetValue(liveness),
                DispatchMode = parse.GetValue(dmode) == "rand" ? DispatchMode.Rand : DispatchMode.Load,
                FairQueuing = parse.GetValue(fairQueuing) switch { "principal" => FairQueuing.PerPrincipal, "none" => FairQueuing.None, _ => FairQueuing.PerClient },
                MaxWorkersLostPerRequest = parse.GetValue(maxWorkersLost),
                EnableDirectory = !parse.GetValue(noDirectory),
                MaxHeldBytes = parse.GetValue(maxHeld),
                MaxMessageSize = (int)Math.Min(int.MaxValue - SocketSlack, parse.GetValue(maxMessage)),
                MaxPendingPerClient = parse.GetValue(maxClientPending),
                MaxBytesPerClient = parse.GetValue(maxClientBytes),
                MaxInFlightBytesPerWorker = parse.GetValue(maxWorkerBytes),
                Transport = parse.GetValue(transport) == "netmq" ? ConnectionTransport.NetMQ : ConnectionTransport.Auto,
                MaxQueuedPerService = parse.GetValue(maxServiceQueue),
                MaxQueuedPerPeer = parse.GetValue(maxPeerQueue),
                SlowConsumerTimeout = parse.GetValue(slowConsumer),
                Store = storeFactory,
                MaxStoredRequests = parse.GetValue(maxStored),
                StoreLease = parse.GetValue(storeLease),
                LoggerFactory = logging,
            };
            Broker broker;
            Management.BrokerManagement? management;
            try
            {
                broker = new Broker(options);
                management = parse.GetValue(http) is { } address
                    ? new Management.BrokerManagement(broker, new Management.BrokerManagementOptions
                    {
                        Url = Management.BrokerManagementOptions.UrlOf(address),
                        Token = parse.GetValue(httpToken) ?? Environment.GetEnvironmentVariable("PIGATO_HTTP_TOKEN"),
                        LoggerFactory = logging,
                    })
                    : null;
            }
            catch (ArgumentException e)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("error: " + e.Message);
                return PigatoCli.UsageError;
            }

            await using var _ = broker;
            await using var __ = management;
            try
            {
                await broker.StartAsync(cancellationToken);
                if (management is not null)
                {
                    await management.StartAsync(cancellationToken);
                }
            }
            catch (Exception e) when (e is PigatoException or IOException)
            {
                await parse.InvocationConfiguration.Error.WriteLineAsync("error: " + e.Message);
                return 1;
            }

            await output.WriteLineAsync($"broker listening on {broker.Endpoint}{(options.EnableDirectory ? " with $dir" : "")}; Ctrl+C to stop");
            if (management is not null)
            {
                await output.WriteLineAsync($"management endpoint on {management.Url}{(management.Token is null ? "" : " (token required)")}");
            }

            await Cli.UntilCancelledAsync(cancellationToken);
            if (management is not null)
            {
                await management.StopAsync(CancellationToken.None);
            }

            await broker.StopAsync(CancellationToken.None);
            await output.WriteLineAsync("broker stopped");
            return 0;
        });
        return command;
    }
}
