using System.Buffers;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Pigato.Internal;
using Pigato.Monitoring;
using Pigato.Protocol;

namespace Pigato.Routing;

/// <summary>
/// The broker's rules without sockets: it is driven by the messages peers send (already decoded) and by
/// heartbeat ticks, reads time from a <see cref="TimeProvider"/>, and acts through an <see cref="IBrokerOutput"/>.
/// One thread at a time (the broker's loop).
/// </summary>
internal sealed class BrokerCore
{
    /// <summary>
    /// Concurrency assumed for a worker until its first heartbeat says otherwise. .NET workers send
    /// their limit in an extra READY frame; the Node.js original only in heartbeats.
    /// </summary>
    public const int DefaultWorkerConcurrency = 100;

    /// <summary>Workers joining (and, apart, leaving) logged one by one per second; past that, a count.</summary>
    private const int WorkerLinesPerSecond = 20;

    /// <summary>Worker ids the directory's publications of one <see cref="DirectoryPeriod"/> list at once, at most; past them, changes are coalesced.</summary>
    public const int DirectoryWorkersPerPeriod = 4096;

    /// <summary>Directory publications are at most this frequent: a burst of joins and leaves costs one per period.</summary>
    public static readonly TimeSpan DirectoryPeriod = TimeSpan.FromMilliseconds(50);

    private static readonly byte[] DirectoryTopic = "$dir "u8.ToArray();
    private static readonly byte[] BusyReason = "\"ERR_WORKER_BUSY\""u8.ToArray();

    /// <summary>The core service the broker answers itself: the service statistics of its workers.</summary>
    public const string StatsService = "$stats";

    private static readonly byte[] StatsServiceName = System.Text.Encoding.UTF8.GetBytes(StatsService);

    /// <summary>How much of a worker's last error value its statistics keep.</summary>
    private const int LastErrorLength = 200;

    private readonly BrokerOptions _options;
    private readonly IBrokerOutput _output;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BrokerMetrics? _metrics;
    private readonly Dispatcher _dispatcher;
    private readonly RequestTable _requests;
    private readonly WorkerRegistry _workers;
    private readonly List<BrokerWorker> _quiet = [];
    private readonly RefusalLog _refusals;
    private readonly LogThrottle _joinLog;
    private readonly LogThrottle _leaveLog;

    private readonly TimeSpan _clientSilence;
    /// <summary>
    /// Clients that have shown they heartbeat (a <c>C, 4</c> or a hello), with what they authenticated as: only these lose
    /// their queued requests when they fall silent (PIGATO-GO's and PIGATO-RUBY's clients never heartbeat).
    /// </summary>
    private readonly Dictionary<string, HeardClient> _heardClients = new(StringComparer.Ordinal);

    /// <summary>A client sends the same options with most requests: the last frame's parse serves the same bytes.</summary>
    private readonly LastParsed<BrokerRequestOptions> _lastOptions = new(static frame => BrokerRequestOptions.Parse(frame));
    private readonly RefusalLog _audit;
    private readonly DurationRecorder _durations = new();
    private readonly DateTimeOffset _startedAt;

    /// <summary>Requests read back from the store by the identity of the client that sent them, until that identity is heard again.</summary>
    private readonly Dictionary<string, List<BrokerRequest>> _orphans = new(StringComparer.Ordinal);
    private Security.Permissions? _permissions;

    /// <summary>The credential of the broker's own core services (its in-process <c>$dir</c>), which may serve <c>$</c> names whatever the permissions say.</summary>
    private readonly Security.PigatoCredential? _coreServices;
    private bool _directoryChanged;
    private long _directoryWindowStart;
    private int _directoryListedInWindow;

    public BrokerCore(BrokerOptions options, IBrokerOutput output, TimeProvider time, ILogger logger, BrokerMetrics? metrics = null, Random? random = null, Security.PigatoCredential? coreServices = null, IRequestJournal? journal = null)
    {
        _coreServices = coreServices;
        _options = options;
        _output = output;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _dispatcher = new Dispatcher(options.DispatchMode, random ?? Random.Shared);
        _requests = new RequestTable(_dispatcher, journal, journal is null ? 0 : options.MaxStoredRequests);
        _workers = new WorkerRegistry(options.Liveness);
        _refusals = new RefusalLog(logger, time);
        _audit = new RefusalLog(logger, time);
        _permissions = options.Permissions;
        _joinLog = new LogThrottle(time, WorkerLinesPerSecond);
        _leaveLog = new LogThrottle(time, WorkerLinesPerSecond);
        _clientSilence = options.HeartbeatInterval * options.Liveness;
        _startedAt = time.GetUtcNow();
    }

    /// <summary>How long past its timeout a request may stay at a worker without a sign of life before its slot is freed.</summary>
    public TimeSpan InFlightGrace => _clientSilence;

    /// <summary>Counts what the broker holds.</summary>
    public BrokerStats Stats()
    {
        int queued = 0, inFlight = 0;
        foreach (var entry in _dispatcher.Services)
        {
            queued += entry.Queue.Count;
        }

        foreach (var worker in _workers.All)
        {
            inFlight += worker.InFlight.Count;
        }

        return new BrokerStats
        {
            Workers = _workers.Count,
            Services = _dispatcher.Services.Count,
            QueuedRequests = queued,
            InFlightRequests = inFlight,
            TrackedRequests = _requests.Count,
            HeldBytes = _requests.HeldBytes + _output.QueuedBytes,
            Clients = _requests.Clients.Count,
            StoredRequests = _requests.DurableCount,
            KeptReplies = _requests.KeptReplies,
        };
    }

    /// <summary>What the broker holds and has done, the busiest first, at most <paramref name="maxEntries"/> of each list.</summary>
    public BrokerSnapshot Snapshot(string brokerName, int maxEntries)
    {
        var services = _dispatcher.Services
            .Select(e => new ServiceSnapshot { Name = e.Name, Queued = e.Queue.Count, InFlight = e.Held - e.Queue.Count, Workers = e.Workers.Count, Served = e.Workers.Sum(w => w.Served) })
            .OrderByDescending(e => e.Queued + e.InFlight).ThenBy(e => e.Name, StringComparer.Ordinal).Take(maxEntries).ToList();
        var workers = _workers.All.OrderByDescending(w => w.InFlight.Count).ThenBy(w => w.Id, StringComparer.Ordinal).Take(maxEntries)
            .Select(Snapshot).ToList();
        var clients = _requests.Clients.OrderByDescending(c => c.Pending).Take(maxEntries)
            .Select(c => new ClientSnapshot { Id = c.Id, Pending = c.Pending, HeldBytes = c.Bytes, LastHeard = WallTime(c.LastHeard) }).ToList();
        return new BrokerSnapshot
        {
            Broker = brokerName,
            TakenAt = _time.GetUtcNow(),
            StartedAt = _startedAt,
            Stats = Stats(),
            Counters = _metrics?.Counters() ?? BrokerCounters.Empty,
            RequestDuration = _durations.Snapshot(),
            Services = services,
            Workers = workers,
            Clients = clients,
        };
    }

    private WorkerSnapshot Snapshot(BrokerWorker worker) =>
        new()
        {
            Id = worker.Id,
            Service = worker.Service.Name,
            InFlight = worker.InFlight.Count,
            Concurrency = worker.Concurrency,
            Requests = worker.Dispatched,
            Served = worker.Served,
            Errors = worker.Errors,
            Rejected = worker.Rejected,
            ProcessingTime = worker.ProcessingTime,
            LastError = worker.LastError,
            LastHeard = WallTime(worker.LastHeard),
            Backlogged = worker.Backlogged,
        };

    /// <summary>A <see cref="TimeProvider"/> timestamp as wall-clock time.</summary>
    private DateTimeOffset WallTime(long timestamp) => _time.GetUtcNow() - _time.GetElapsedTime(timestamp);

    /// <summary>
    /// Answers <c>$stats</c>: with a service name as data, the statistics of its workers (an array); with none, of every
    /// worker by service (an object of arrays).
    /// </summary>
    private void AnswerStats(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, ReadOnlySpan<byte> data, bool compact)
    {
        if (!TryReadServiceName(data, out var service))
        {
            Refuse(clientId, rid, PigatoErrorCodes.RequestInvalid, "$stats takes a service name (a JSON string) or nothing", compact);
            return;
        }

        var workers = _workers.All.Where(w => service is null || w.Service.Name == service).Select(Snapshot);
        _output.SendReply(clientId, rid, ServiceStatistics.ToJson(workers, byService: service is null), compact);
    }

    private static bool TryReadServiceName(ReadOnlySpan<byte> data, out string? service)
    {
        service = null;
        if (data.IsEmpty)
        {
            return true;
        }

        try
        {
            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType == JsonTokenType.Null)
            {
                return true;
            }

            service = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            return service is not null;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>A client's request; <paramref name="messageSize"/> is the size of all its frames. Refused with an error reply when over a limit.</summary>
    /// <summary>A client's request; <paramref name="compact"/> when it came in v2 framing (its answers then go in v2).</summary>
    public void ClientRequest(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> service, ReadOnlySpan<byte> rid, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options, int messageSize, bool compact = false)
    {
        if (rid.IsEmpty || service.IsEmpty)
        {
            _output.ReportError(PigatoErrorCodes.RequestInvalid, "Request without a service or a request id.", Utf8.Decode(clientId));
            return;
        }

        ReattachOrphans(clientId, compact);
        if (rid.Length > _options.MaxRidLength || service.Length > _options.MaxServiceNameLength)
        {
            Refuse(clientId, rid, PigatoErrorCodes.FrameTooLong, $"service name of {service.Length} bytes or request id of {rid.Length} bytes (at most {_options.MaxServiceNameLength} and {_options.MaxRidLength})", compact);
            return;
        }

        if (messageSize > _options.MaxMessageSize)
        {
            Refuse(clientId, rid, PigatoErrorCodes.MessageTooLarge, $"message of {messageSize} bytes (at most {_options.MaxMessageSize})", compact);
            return;
        }

        if (_requests.TryGet(clientId, rid, out var inProgress))
        {
            if (inProgress.IsDurable)
            {
                // Sent again by its client after its connection dropped and came back under the same identity: nothing
                // runs twice; a final reply kept meanwhile goes now.
                Reattach(inProgress, clientId, service, rid, compact);
                return;
            }

            _output.ReportError(PigatoErrorCodes.RequestInvalid, $"Request id {Utf8.Decode(rid)} is already in progress; duplicate ignored.", Utf8.Decode(clientId));
            return;
        }

        if (_permissions is { } permissions && Authorize(permissions, clientId, service) is { } denial)
        {
            // One line per refusal: the audit log names the principal; the refusal itself is only counted and answered.
            Deny(denial, Utf8.Decode(clientId), $"request for '{Utf8.Decode(service)}' as '{PrincipalOf(clientId)}'");
            Refuse(clientId, rid, denial, detail: null, compact);
            return;
        }

        if (service.SequenceEqual(StatsServiceName))
        {
            AnswerStats(clientId, rid, data, compact);
            return;
        }

        var parsed = _lastOptions.Parse(options);
        var optionsFrame = _lastOptions.LastFrame; // the same bytes, one array shared by every request that carries them
        if (parsed.Persist)
        {
            if (_requests.TryGetDurable(rid, out var held))
            {
                Reattach(held, clientId, service, rid, compact);
                return;
            }

            if (_requests.Journal is { IsAvailable: false })
            {
                Refuse(clientId, rid, PigatoErrorCodes.StoreUnavailable, "the request store cannot be written; persist requests are refused until it is back", compact);
                return;
            }

            if (_requests.DurableCount >= _options.MaxStoredRequests)
            {
                Refuse(clientId, rid, PigatoErrorCodes.StoreFull, $"the broker holds {_requests.DurableCount} persist requests (at most {_options.MaxStoredRequests})", compact);
                return;
            }
        }

        var entry = _dispatcher.ServiceFor(service);
        if ((parsed.FailWithoutWorkers ?? _options.FailWithoutWorkers) && !HasWorkers(entry))
        {
            Refuse(clientId, rid, PigatoErrorCodes.NoWorkers, $"no registered worker serves '{entry.Name}'", compact);
            return;
        }

        if (Admit(clientId, entry, BrokerRequest.Overhead + clientId.Length + rid.Length + data.Length + options.Length) is { } refusal)
        {
            Refuse(clientId, rid, refusal.Code, refusal.Detail, compact);
            return;
        }

        // Core services answer by the requester's rights (the directory lists only what it may request): they learn its
        // principal from the broker, which overwrites whatever the client put there.
        var stored = _permissions is not null && entry.Name.StartsWith('$') ? JsonFrame.WithFields(options, ("principal", PrincipalOf(clientId))) : null;
        System.Diagnostics.Activity? activity = null;
        if (Tracing.Source.HasListeners())
        {
            // The broker's span is the worker's parent: the stored options carry its context onwards.
            var caller = System.Diagnostics.Activity.Current;
            activity = Tracing.Start("receive", entry.Name, System.Diagnostics.ActivityKind.Server, Utf8.Decode(rid), Tracing.Extract(stored ?? options));
            System.Diagnostics.Activity.Current = caller;
            stored = activity is null ? stored : Tracing.Inject(stored ?? options, activity);
        }

        var request = _requests.Create(clientId, rid, entry, data, stored ?? optionsFrame, parsed, _time.GetTimestamp(), activity, storedAt: parsed.Persist ? _time.GetUtcNow().ToUnixTimeMilliseconds() : 0);
        request.ReplyCompact = compact;
        if (parsed.Persist && _requests.Journal is not null)
        {
            _metrics?.Stored();
        }

        _metrics?.Received();
        DispatchPending();
    }

    /// <summary>
    /// A <c>persist</c> request arrived again under its rid (its client reconnected under a new identity, or the broker
    /// restarted and read it back): from now on its replies go to the new identity, and a final reply kept meanwhile is sent
    /// at once. It runs once more only if it was not held any longer (answered, and that answer lost with the connection).
    /// </summary>
    private void Reattach(BrokerRequest request, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> service, ReadOnlySpan<byte> rid, bool compact)
    {
        if (!service.SequenceEqual(request.Service.NameBytes))
        {
            Refuse(clientId, rid, PigatoErrorCodes.RequestInvalid, $"request id {request.Rid} is in use by a persist request to '{request.Service.Name}'", compact);
            return;
        }

        Heard(clientId, compact);
        request.ReplyTo = clientId.ToArray();
        request.ReplyCompact = compact;
        _metrics?.Reattached();
        if (request.ParkedReply is null || request.AwaitingRemoval)
        {
            return;
        }

        if (MustAwaitRemoval(request))
        {
            AwaitRemoval(request);
        }
        else
        {
            DeliverKeptReply(request);
        }
    }

    /// <summary>True when the store may hold the request: its final reply must wait until its removal is durable.</summary>
    private bool MustAwaitRemoval(BrokerRequest request) => _requests.Journal is { IsAvailable: true } journal && journal.MayHold(request);

    /// <summary>Removes the request from the store; its kept reply goes when that is durable (<see cref="RemovalsDurable"/>).</summary>
    private void AwaitRemoval(BrokerRequest request)
    {
        request.AwaitingRemoval = true;
        _requests.Journal!.RemoveBeforeReply(request);
    }

    /// <summary>Sends a request's kept final reply to its client and ends it.</summary>
    private void DeliverKeptReply(BrokerRequest request)
    {
        if (request.ReplyTo is { } client && !_output.SendKeptReply(client, request, request.ParkedReply!, request.ReplyCompact))
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Reply for request {request.Rid} could not reach its client.", Utf8.Decode(client));
        }

        _requests.End(request);
    }

    /// <summary>The removals of these requests from the store are durable: their kept final replies go to their clients now.</summary>
    public void RemovalsDurable(IEnumerable<BrokerRequest> requests)
    {
        foreach (var request in requests)
        {
            if (request.AwaitingRemoval && _requests.TryGet(request.ClientId, request.RidBytes, out var held) && held == request)
            {
                DeliverKeptReply(request);
            }
        }
    }

    /// <summary>
    /// Queues again the <c>persist</c> requests read back from the store (at start, or taken over from a broker whose lease
    /// expired), with their age kept; those already here (their client re-sent them first) or answered here lately are skipped. Their replies are
    /// kept until their client re-attaches (see <see cref="BrokerOptions.KeptReplyWindow"/>). Returns how many were queued.
    /// </summary>
    public int Restore(IEnumerable<Persistence.StoredRequest> stored)
    {
        var now = _time.GetTimestamp();
        var wallNow = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var restored = 0;
        foreach (var request in stored)
        {
            if (_requests.TryGetDurable(request.Rid, out _) || _requests.Contains(request.ClientId, request.Rid))
            {
                continue;
            }

            var age = TimeSpan.FromMilliseconds(Math.Max(0, wallNow - request.StoredAt));
            var arrivedAt = now - (long)(age.TotalSeconds * _time.TimestampFrequency);
            var entry = _dispatcher.ServiceFor(System.Text.Encoding.UTF8.GetBytes(request.Service));
            var parsed = BrokerRequestOptions.Parse(request.Options) with { Persist = true };
            var held = _requests.Create(request.ClientId, request.Rid, entry, request.Data, request.Options, parsed, arrivedAt, storedAt: request.StoredAt, fromStore: true);
            if (_requests.WasAnswered(request.Rid))
            {
                // Its client re-sent it here after the other broker died and got its answer: only its record is left to remove.
                _requests.End(held, "answered");
                continue;
            }

            // A client whose connection came back under the same identity (ZeroMQ reconnects; PIGATO for Node.js keeps its
            // identity until its own liveness runs out) is found by it when it is next heard.
            var key = PeerKey.Of(request.ClientId);
            if (!_orphans.TryGetValue(key, out var orphans))
            {
                _orphans[key] = orphans = [];
            }

            orphans.Add(held);

            restored++;
        }

        ExpireQueuedRequests();
        DispatchPending();
        return restored;
    }

    /// <summary>
    /// A .NET client's hello (first on every connection): the framing it speaks and, when it has one, its credential
    /// (checked like <see cref="ClientAuth"/>). Answered with the framing the broker agrees to.
    /// </summary>
    public void ClientHello(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> hello)
    {
        var parsed = WorkerStatus.Parse(hello);
        Heard(clientId, heartbeat: true);
        if (parsed.Principal is { } principal)
        {
            Authenticate(clientId, principal, parsed.Token ?? "");
        }

        _output.SendHelloAnswer(clientId, compact: parsed.SpeaksV2 && _options.Framing == Framing.Auto);
    }

    /// <summary>
    /// A .NET client's credential (once per connection): its principal is remembered for its identity when the token
    /// matches; a wrong one is logged and counted, and the client stays anonymous.
    /// </summary>
    public void ClientAuth(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> principal, ReadOnlySpan<byte> token) =>
        Authenticate(clientId, Utf8.Decode(principal), Utf8.Decode(token));

    /// <summary>Remembers the principal a client proved for its identity; a wrong credential is logged and counted.</summary>
    private void Authenticate(ReadOnlySpan<byte> clientId, string name, string token)
    {
        if (_permissions is not { } permissions)
        {
            return;
        }

        if (permissions.Authenticate(name, token) is { } proven)
        {
            _heardClients[PeerKey.Of(clientId)] = new HeardClient { Principal = proven, LastHeard = _time.GetTimestamp() };
            return;
        }

        Deny(PigatoErrorCodes.Unauthenticated, Utf8.Decode(clientId), $"client credential for principal '{name}' rejected");
    }

    /// <summary>The permissions in force (null: none), for core services that answer by the requester's rights.</summary>
    public Security.Permissions? Permissions => Volatile.Read(ref _permissions);

    /// <summary>
    /// New permissions (the file changed): from now on requests are checked against them, and every worker whose principal
    /// may no longer serve its service is disconnected (its requests re-queued or failed).
    /// </summary>
    public void SetPermissions(Security.Permissions permissions)
    {
        Volatile.Write(ref _permissions, permissions);
        foreach (var worker in _workers.All.ToList())
        {
            if (worker.Principal != _coreServices?.Principal && !permissions.MayServe(worker.Principal ?? Security.Permissions.Anonymous, worker.Service.Name))
            {
                Deny(PigatoErrorCodes.Forbidden, worker.Id, $"principal '{worker.Principal}' may no longer serve '{worker.Service.Name}': revoked");
                RemoveWorker(worker, "revoked", sendDisconnect: true);
            }
        }

        DispatchPending();
    }

    public void ClientHeartbeat(ReadOnlySpan<byte> clientId)
    {
        Heard(clientId, heartbeat: true);
        _output.SendClientHeartbeat(clientId);
    }

    /// <summary>Forwarded to the worker holding the request (the original compares with 'req' and never forwards); only the request's own client is heard.</summary>
    public void ClientRequestHeartbeat(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid)
    {
        Heard(clientId, heartbeat: true);
        if (!TryGetRequestOfClient(clientId, rid, out var request) || request.Worker is not { } worker)
        {
            return;
        }

        request.LastActivity = _time.GetTimestamp();
        if (!_output.ForwardRequestHeartbeat(worker, request))
        {
            // Advisory: a failed one never costs the worker its requests.
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Request heartbeat for {request.Rid} could not reach its worker.", worker.Id);
        }
    }

    /// <summary>
    /// The client no longer wants the request (a .NET client, on a v2 connection): still queued, it is dropped at once; at a
    /// worker, a v2 worker is told (its handler's token trips) and whatever the worker still sends for it is dropped, its
    /// final reply freeing the slot. A v1 worker (PIGATO for Node.js) cannot be told: it sees the request heartbeats stop.
    /// </summary>
    public void ClientCancel(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid)
    {
        Heard(clientId, heartbeat: true);
        if (!TryGetRequestOfClient(clientId, rid, out var request) || request.Cancelled || request.ParkedReply is not null)
        {
            // Answered (or cancelled) already.
            return;
        }

        _metrics?.Cancelled(queued: request.Worker is null);
        if (request.Worker is not { } worker)
        {
            _requests.End(request, PigatoErrorCodes.Cancelled);
            Log.Request(_logger, request.Rid, request.Service.Name, "cancelled by its client while queued");
            return;
        }

        request.Cancelled = true;
        Log.Request(_logger, request.Rid, request.Service.Name, "cancelled by its client at", worker.Id);
        if (worker.Compact && !_output.ForwardCancel(worker, request))
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Cancellation of {request.Rid} could not reach its worker.", worker.Id);
        }
    }

    /// <summary>
    /// A worker's heartbeat sent from a client socket (PIGATO-RUBY's worker runs one beside its worker socket, and sends
    /// nothing else while its handler is busy): the worker named counts as heard, as the Node broker does; nothing is
    /// answered. With permissions, only a peer whose principal is the worker's, or may serve its service, keeps it alive.
    /// </summary>
    public void ClientWorkerHeartbeat(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> workerId)
    {
        Heard(clientId, heartbeat: true);
        if (!_workers.TryGet(workerId, out var worker))
        {
            // Not (or no longer) registered: the worker registers again on its own when the broker tells it so.
            return;
        }

        if (_permissions is { } permissions)
        {
            var principal = PrincipalOf(clientId);
            if (principal != worker.Principal && !permissions.MayServe(principal, worker.Service.Name))
            {
                Deny(PigatoErrorCodes.Forbidden, Utf8.Decode(clientId), $"heartbeat for worker {worker.Id} of '{worker.Service.Name}' as '{principal}'");
                return;
            }
        }

        _workers.Touch(worker, _time.GetTimestamp());
    }

    public void WorkerReady(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> service, ReadOnlySpan<byte> status)
    {
        if (_workers.TryGet(identity, out var existing))
        {
            ProtocolViolation(existing, "READY from a worker already registered");
            DispatchPending();
            return;
        }

        if (service.IsEmpty)
        {
            _output.ReportError(PigatoErrorCodes.MessageLength, "READY without a service name.", Utf8.Decode(identity));
            _output.SendDisconnect(identity);
            return;
        }

        var parsed = WorkerStatus.Parse(status);
        string? principal = null;
        if (_permissions is { } permissions)
        {
            principal = parsed.Principal is null ? Security.Permissions.Anonymous : permissions.Authenticate(parsed.Principal, parsed.Token ?? "");
            var name = Utf8.Decode(service);
            var isCore = _coreServices is { } core && parsed.Principal == core.Principal && name.StartsWith('$')
                && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(System.Text.Encoding.UTF8.GetBytes(parsed.Token ?? ""), System.Text.Encoding.UTF8.GetBytes(core.Token));
            principal = isCore ? _coreServices!.Principal : principal;
            var denial = isCore ? null
                : principal is null ? PigatoErrorCodes.Unauthenticated
                : permissions.MayServe(principal, name) ? null
                : principal == Security.Permissions.Anonymous ? PigatoErrorCodes.Unauthenticated
                : PigatoErrorCodes.Forbidden;
            if (denial is not null)
            {
                // Logged at most once a second per code (a refused worker tries again); it hears DISCONNECT before any answer.
                Deny(denial, Utf8.Decode(identity), $"worker may not serve '{name}' as '{parsed.Principal ?? Security.Permissions.Anonymous}' (READY refused; sent DISCONNECT)");
                _output.SendDisconnect(identity);
                return;
            }
        }

        var entry = _dispatcher.ServiceFor(service);
        var worker = _workers.Add(identity, entry, parsed.Concurrency ?? DefaultWorkerConcurrency, _time.GetTimestamp());
        worker.Principal = principal;
        worker.Compact = parsed.SpeaksV2 && _options.Framing == Framing.Auto;
        if (_joinLog.TryTake(out var joinsNotLogged))
        {
            LogNotLogged("joined", joinsNotLogged);
            Log.WorkerJoined(_logger, worker.Id, entry.Name, worker.Concurrency);
        }
        if (!_output.SendReadyAnswer(worker))
        {
            RemoveWorker(worker, "unreachable", sendDisconnect: false);
            return;
        }

        _dispatcher.OnWorkerSetChanged(entry);
        DirectoryChanged();
        _dispatcher.MarkServedBy(entry);
        DispatchPending();
    }

    public void WorkerHeartbeat(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> status)
    {
        if (!_workers.TryGet(identity, out var worker))
        {
            UnknownWorker(identity);
            return;
        }

        _workers.Touch(worker, _time.GetTimestamp());
        var parsed = WorkerStatus.Parse(status);
        if (parsed.Concurrency is { } concurrency && concurrency != worker.Concurrency)
        {
            worker.Concurrency = concurrency;
            _dispatcher.MarkServedBy(worker.Service);
        }

        // An answer that cannot be sent is not a reason to drop the worker and fail its requests: a gone
        // worker is purged by liveness.
        if (!_output.SendWorkerHeartbeat(worker))
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, "Heartbeat answer could not be sent.", worker.Id);
        }

        if (parsed.Update && worker.Service.Name.StartsWith('$'))
        {
            DirectoryChanged();
        }

        DispatchPending();
    }

    /// <summary>
    /// A partial or final reply from a worker: relayed to the request's client; a final one ends the request. The status
    /// and data of a final reply count in the worker's statistics (an error's value is its last error).
    /// </summary>
    public void WorkerReply(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, bool final, ReadOnlySpan<byte> status = default, ReadOnlySpan<byte> data = default)
    {
        if (!TryGetRequestOfWorker(identity, clientId, rid, out var worker, out var request))
        {
            DispatchPending();
            return;
        }

        // Touched when it was found: the time it was heard is this reply's.
        request.LastActivity = worker.LastHeard;
        if (final)
        {
            CountServed(worker, request, status, data);
        }

        if (request.Cancelled)
        {
            // Its client gave up on it: nothing goes back; the final reply frees the worker's slot.
            if (final)
            {
                EndCancelled(request, worker);
            }

            return;
        }

        if (final && request.IsDurable && _requests.Journal is not null && (request.ReplyTo is null || MustAwaitRemoval(request)))
        {
            // The store may hold it: the reply is kept until its removal is durable (a crash in between would run it again
            // after its client was answered), or, read back from the store and not re-attached yet, until its client comes.
            _requests.Park(request, _output.CopyReply(), request.LastActivity);
            if (request.ReplyTo is not null)
            {
                AwaitRemoval(request);
            }

            _metrics?.Completed();
            _dispatcher.MarkServedBy(worker.Service);
            DispatchPending();
            return;
        }

        if (request.ReplyTo is null)
        {
            // Read back from the store and no client has re-attached yet: partials have nobody to go to.
            return;
        }

        if (!_output.RelayReply(request))
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Reply for request {request.Rid} could not reach its client.", Utf8.Decode(request.ReplyTo));
        }

        if (final)
        {
            _requests.End(request);
            _metrics?.Completed();
            _dispatcher.MarkServedBy(worker.Service);
            DispatchPending();
        }
    }

    /// <summary>A final reply's share of the statistics: the worker's count, errors and processing time, the broker's request duration.</summary>
    private void CountServed(BrokerWorker worker, BrokerRequest request, ReadOnlySpan<byte> status, ReadOnlySpan<byte> data)
    {
        worker.Served++;
        worker.Processing.Record(_time.GetElapsedTime(request.DispatchedAt, request.LastActivity));
        _durations.Record(_time.GetElapsedTime(request.ArrivedAt, request.LastActivity));
        if (status.SequenceEqual(PigatoFrames.StatusError.Span))
        {
            worker.Errors++;
            worker.LastError = Utf8.Decode(data[..Math.Min(data.Length, LastErrorLength)]);
        }
    }

    /// <summary>
    /// A worker gave a request back: it goes to the head of its queue and never to this worker again. A worker that
    /// rejects because it is busy (<c>ERR_WORKER_BUSY</c>: its budget is shared with other brokers) may take it later:
    /// it only counts as full until its next heartbeat says what it can take.
    /// </summary>
    public void WorkerReject(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, ReadOnlySpan<byte> reason = default)
    {
        if (TryGetRequestOfWorker(identity, clientId, rid, out var worker, out var request))
        {
            if (request.Cancelled)
            {
                EndCancelled(request, worker);
                return;
            }

            if (reason.SequenceEqual(BusyReason))
            {
                _requests.Requeue(request);
                worker.Concurrency = worker.InFlight.Count;
                _dispatcher.MarkServedBy(worker.Service);
                DispatchPending();
                return;
            }

            (request.RejectedBy ??= new HashSet<string>(StringComparer.Ordinal)).Add(worker.Key);
            worker.Rejected++;
            request.Activity?.AddEvent(new System.Diagnostics.ActivityEvent("rejected", tags: new System.Diagnostics.ActivityTagsCollection { ["pigato.worker.id"] = worker.Id }));
            _metrics?.Rejected();
            Log.Request(_logger, request.Rid, request.Service.Name, "rejected by", worker.Id);
            _requests.Requeue(request);
            _dispatcher.MarkServedBy(worker.Service);
        }

        DispatchPending();
    }

    public void WorkerDisconnect(ReadOnlySpan<byte> identity)
    {
        if (_workers.TryGet(identity, out var worker))
        {
            RemoveWorker(worker, "disconnected", sendDisconnect: false);
            DispatchPending();
        }
    }

    /// <summary>A message that failed decoding: a registered worker sending it is disconnected; anyone else is reported.</summary>
    public void InvalidMessage(ReadOnlySpan<byte> identity, string code)
    {
        if (_workers.TryGet(identity, out var worker))
        {
            ProtocolViolation(worker, "malformed message (" + code + ")");
            DispatchPending();
            return;
        }

        _output.ReportError(code, "Malformed message ignored.", Utf8.Decode(identity));
    }

    /// <summary>One heartbeat period: purge silent workers, heartbeat quiet ones, expire queued requests, forget unused names.</summary>
    public void Tick()
    {
        _quiet.Clear();
        foreach (var worker in _workers.Tick(_quiet))
        {
            RemoveWorker(worker, "purged after missing heartbeats", sendDisconnect: true);
        }

        foreach (var worker in _quiet)
        {
            _output.SendWorkerHeartbeat(worker);
        }

        LogNotLogged("joined", _joinLog.TakeSuppressed());
        LogNotLogged("left", _leaveLog.TakeSuppressed());
        ExpireQueuedRequests();
        DropRequestsOfSilentClients();
        ExpireKeptReplies();
        ForgetSilentClients();
        FreeAbandonedSlots();
        _dispatcher.ForgetUnused();
        DispatchPending();
    }

    private void LogNotLogged(string what, int count)
    {
        if (count > 0)
        {
            Log.WorkersNotLogged(_logger, count, what);
        }
    }

    /// <summary>Publishes the directory if a change is waiting (the broker calls it every <see cref="DirectoryPeriod"/>).</summary>
    public void PublishDirectoryIfChanged()
    {
        if (_directoryChanged)
        {
            PublishDirectory();
        }
    }

    /// <summary>
    /// The directory changed: published at once, as PIGATO's broker does (workers registering together are all listed at
    /// once), while the publications of this <see cref="DirectoryPeriod"/> have listed fewer than
    /// <see cref="DirectoryWorkersPerPeriod"/> workers in all; past that, by the next <see cref="PublishDirectoryIfChanged"/>,
    /// so that a flood of joins and leaves among many workers costs one publication per period.
    /// </summary>
    private void DirectoryChanged()
    {
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(_directoryWindowStart, now) >= DirectoryPeriod)
        {
            _directoryWindowStart = now;
            _directoryListedInWindow = 0;
        }

        var cost = _workers.Count + 1;
        if (_directoryListedInWindow == 0 || _directoryListedInWindow + cost <= DirectoryWorkersPerPeriod)
        {
            _directoryListedInWindow += cost;
            PublishDirectory();
        }
        else
        {
            _directoryChanged = true;
        }
    }

    /// <summary>A worker sent a message larger than <see cref="BrokerOptions.MaxMessageSize"/>: it is disconnected, and a reply too large to relay fails its request.</summary>
    public void WorkerOversized(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, int messageSize)
    {
        if (!_workers.TryGet(identity, out var worker))
        {
            UnknownWorker(identity);
            return;
        }

        // Reported before the client is answered, so that whoever watches the broker's errors has seen it by then.
        _output.ReportError(PigatoErrorCodes.MessageTooLarge, $"Worker disconnected: message of {messageSize} bytes (at most {_options.MaxMessageSize}).", worker.Id);
        if (!clientId.IsEmpty && PeerKey.TryGet(worker.InFlight, clientId, rid, out var request))
        {
            Fail(request, PigatoErrorCodes.MessageTooLarge);
        }

        RemoveWorker(worker, "message too large", sendDisconnect: true);
        DispatchPending();
    }

    /// <summary>What waited for a peer has been sent: a worker is no longer busy.</summary>
    public void PeerDrained(byte[] identity)
    {
        if (_workers.TryGet(identity, out var worker) && worker.Backlogged)
        {
            worker.Backlogged = false;
            _dispatcher.MarkServedBy(worker.Service);
            DispatchPending();
        }
    }

    /// <summary>Requests sent to a worker in a batch went into its outbound queue (its pipe is full): it takes nothing more until that drains.</summary>
    public void PeerBacklogged(byte[] identity)
    {
        if (_workers.TryGet(identity, out var worker))
        {
            worker.Backlogged = true;
        }
    }

    /// <summary>
    /// A peer with messages waiting is gone: a worker's requests are re-queued or failed, but those it never received
    /// (<paramref name="undelivered"/>: a v2 batch that could not be sent) go back to their queue, as with v1.
    /// </summary>
    public void PeerGone(byte[] identity, IReadOnlyCollection<BrokerRequest>? undelivered = null)
    {
        if (_workers.TryGet(identity, out var worker))
        {
            RemoveWorker(worker, "unreachable", sendDisconnect: false, undelivered);
            DispatchPending();
        }
    }

    /// <summary>
    /// A peer read nothing of what waited for it for too long: its queue is dropped (a client loses those replies),
    /// and a worker is disconnected, its requests re-queued or failed.
    /// </summary>
    public void SlowConsumer(byte[] identity, int dropped, IReadOnlyCollection<BrokerRequest>? undelivered = null)
    {
        _metrics?.SlowConsumer();
        var peer = Utf8.Decode(identity);
        Log.Abandoned(_logger, "SLOW_CONSUMER", peer, dropped, "messages waiting longer than the slow-consumer timeout dropped");
        if (_workers.TryGet(identity, out var worker))
        {
            RemoveWorker(worker, "slow consumer", sendDisconnect: true, undelivered);
            DispatchPending();
        }
    }

    /// <summary>A message too large from a peer that is not a registered worker and cannot be answered: reported.</summary>
    public void Oversized(ReadOnlySpan<byte> identity, int messageSize) =>
        _output.ReportError(PigatoErrorCodes.MessageTooLarge, $"Message of {messageSize} bytes discarded (at most {_options.MaxMessageSize}).", Utf8.Decode(identity));

    /// <summary>Refuses a request on arrival with the broker's own error reply.</summary>
    /// <param name="clientId">The client.</param>
    /// <param name="rid">Its request.</param>
    /// <param name="code">The error code it gets.</param>
    /// <param name="detail">What the log says (at most once a second per code); null when the caller logged it already.</param>
    /// <param name="compact">Whether the answer goes in v2.</param>
    public void Refuse(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, string code, string? detail, bool compact)
    {
        _metrics?.Refused(code);
        var peer = Utf8.Decode(clientId);
        if (detail is not null)
        {
            // With permissions, the line names who the peer proved to be, as a denial's does.
            _refusals.Refused(code, peer, _permissions is null ? detail : $"{detail}; principal '{PrincipalOf(clientId)}'");
        }

        if (!_output.SendError(clientId, rid, code, compact))
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Refusal {code} could not reach its client.", peer);
        }
    }

    /// <summary>True when a registered worker can serve the service: its name, a wildcard or a semver range.</summary>
    private bool HasWorkers(ServiceEntry entry)
    {
        foreach (var candidate in _dispatcher.CandidatesFor(entry))
        {
            if (candidate.Workers.Count > 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The principal a client authenticated as, or anonymous.</summary>
    private string PrincipalOf(ReadOnlySpan<byte> clientId) =>
        PeerKey.TryGet(_heardClients, clientId, out var entry) ? entry.Principal ?? Security.Permissions.Anonymous : Security.Permissions.Anonymous;

    /// <summary>The denial of a request by the permissions, or null: unauthenticated when anonymous may not, forbidden when the principal may not.</summary>
    private string? Authorize(Security.Permissions permissions, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> service)
    {
        var known = PeerKey.TryGet(_heardClients, clientId, out var heard) && heard.Principal is not null;
        var principal = PrincipalOf(clientId);
        if (permissions.MayRequest(principal, Utf8.Decode(service)))
        {
            return null;
        }

        return known ? PigatoErrorCodes.Forbidden : PigatoErrorCodes.Unauthenticated;
    }

    /// <summary>An authentication failure, denial or revocation: logged (at most once a second per code, with the count) and counted.</summary>
    private void Deny(string code, string peerId, string what)
    {
        _metrics?.Denied(code);
        _audit.Refused(code, peerId, what);
    }

    /// <summary>Checks the memory budget and the per-client and per-service limits; the refusal, or null to admit.</summary>
    private (string Code, string Detail)? Admit(ReadOnlySpan<byte> clientId, ServiceEntry service, long size)
    {
        var held = _requests.HeldBytes + _output.QueuedBytes;
        if (held + size > _options.MaxHeldBytes)
        {
            return (PigatoErrorCodes.BrokerFull, $"the broker holds {held} bytes for requests and replies waiting (at most {_options.MaxHeldBytes})");
        }

        if (_requests.TryGetClient(clientId, out var client))
        {
            if (client.Pending >= _options.MaxPendingPerClient)
            {
                return (PigatoErrorCodes.ClientPendingLimit, $"the client has {client.Pending} requests in the broker (at most {_options.MaxPendingPerClient})");
            }

            if (client.Bytes + size > _options.MaxBytesPerClient)
            {
                return (PigatoErrorCodes.ClientBytesLimit, $"the client's requests hold {client.Bytes} bytes (at most {_options.MaxBytesPerClient})");
            }
        }

        if (service.Queue.Count >= _options.MaxQueuedPerService)
        {
            return (PigatoErrorCodes.ServiceQueueFull, $"service '{service.Name}' has {service.Queue.Count} requests queued (at most {_options.MaxQueuedPerService})");
        }

        return null;
    }

    /// <summary>A client heard under the identity its requests read back from the store carry: they are its again.</summary>
    private void ReattachOrphans(ReadOnlySpan<byte> clientId, bool compact)
    {
        if (_orphans.Count > 0 && PeerKey.TryGet(_orphans, clientId, out var orphans))
        {
            _orphans.Remove(PeerKey.Of(clientId));
            foreach (var orphan in orphans.Where(IsOrphan))
            {
                Reattach(orphan, clientId, orphan.Service.NameBytes, orphan.RidBytes, compact);
            }
        }
    }

    private bool IsOrphan(BrokerRequest request) => request.ReplyTo is null && _requests.TryGetDurable(request.RidBytes, out var held) && held == request;

    /// <summary>
    /// A client's sign of life; orphans it re-attaches get their replies in v1 unless a v2 request re-attached them. A
    /// <paramref name="heartbeat"/> (or a hello) shows that the client heartbeats: from then on its silence counts.
    /// </summary>
    private void Heard(ReadOnlySpan<byte> clientId, bool compact = false, bool heartbeat = false)
    {
        ReattachOrphans(clientId, compact);

        if (PeerKey.TryGet(_heardClients, clientId, out var known))
        {
            known.LastHeard = _time.GetTimestamp();
        }
        else if (heartbeat)
        {
            _heardClients[PeerKey.Of(clientId)] = new HeardClient { LastHeard = _time.GetTimestamp() };
        }

        if (_requests.TryGetClient(clientId, out var client))
        {
            client.LastHeard = _time.GetTimestamp();
        }
    }

    /// <summary>
    /// A client that heartbeats (it sent <c>C, 4</c> or a hello) and has been silent for the liveness is gone: its queued
    /// requests would only ever be answered to nobody, so they are dropped, each with an error reply in case it is still
    /// there after all. Those at a worker finish (or expire) there. A client that never heartbeats (PIGATO-GO's and
    /// PIGATO-RUBY's) is never judged by its silence: its requests wait for their own timeout, within the memory budget.
    /// </summary>
    private void DropRequestsOfSilentClients()
    {
        var now = _time.GetTimestamp();
        List<BrokerRequest>? dropped = null;
        foreach (var request in _requests.All)
        {
            // A persist request outlives its client's connection: the client re-attaches under a new identity.
            if (request.QueueNode is not null && !request.IsDurable && _time.GetElapsedTime(request.Client.LastHeard, now) > _clientSilence
                && PeerKey.TryGet(_heardClients, request.ClientId, out _))
            {
                (dropped ??= []).Add(request);
            }
        }

        foreach (var group in (dropped ?? []).GroupBy(r => r.Client))
        {
            foreach (var request in group)
            {
                _requests.End(request, PigatoErrorCodes.ClientLost);
                _metrics?.Abandoned(PigatoErrorCodes.ClientLost);
                _output.SendError(request.ClientId, request.RidBytes, PigatoErrorCodes.ClientLost, request.ReplyCompact);
            }

            Log.Abandoned(_logger, PigatoErrorCodes.ClientLost, Utf8.Decode(group.First().ClientId), group.Count(), $"client silent for more than {_clientSilence.TotalSeconds:0.#} s; its queued requests dropped");
        }
    }

    /// <summary>Final replies kept for clients that never re-attached are dropped after <see cref="BrokerOptions.KeptReplyWindow"/>, and their requests leave the store.</summary>
    private void ExpireKeptReplies()
    {
        foreach (var key in _orphans.Where(o => !o.Value.Any(IsOrphan)).Select(o => o.Key).ToList())
        {
            _orphans.Remove(key);
        }

        if (_requests.KeptReplies == 0)
        {
            return;
        }

        var now = _time.GetTimestamp();
        var kept = _requests.All.Where(r => r.ParkedReply is not null && !r.AwaitingRemoval && _time.GetElapsedTime(r.ParkedAt, now) > _options.KeptReplyWindow).ToList();
        foreach (var request in kept)
        {
            _requests.End(request, PigatoErrorCodes.ClientLost);
            _metrics?.Abandoned(PigatoErrorCodes.ClientLost);
        }

        if (kept.Count > 0)
        {
            Log.Abandoned(_logger, PigatoErrorCodes.ClientLost, "-", kept.Count, $"final replies of persist requests kept {_options.KeptReplyWindow.TotalSeconds:0} s for clients that never re-attached dropped");
        }
    }

    /// <summary>A client silent past twice the liveness has gone: it and what it authenticated as are forgotten (it reconnects under a new identity).</summary>
    private void ForgetSilentClients()
    {
        if (_heardClients.Count == 0)
        {
            return;
        }

        var now = _time.GetTimestamp();
        foreach (var key in _heardClients.Where(p => _time.GetElapsedTime(p.Value.LastHeard, now) > _clientSilence * 2).Select(p => p.Key).ToList())
        {
            _heardClients.Remove(key);
        }
    }

    /// <summary>
    /// A request at a worker that has shown no sign of life for longer than its timeout plus a grace period: its
    /// client has given up (C_TIMEOUT), so the worker's slot and the entry are freed; a late reply is then dropped.
    /// </summary>
    private void FreeAbandonedSlots()
    {
        var now = _time.GetTimestamp();
        foreach (var worker in _workers.All)
        {
            List<BrokerRequest>? abandoned = null;
            foreach (var request in worker.InFlight.Values)
            {
                if (request.IsAbandonedAtWorker(_time, now, InFlightGrace))
                {
                    (abandoned ??= []).Add(request);
                }
            }

            foreach (var request in abandoned ?? [])
            {
                worker.RememberAbandoned(request.Key);
                _requests.End(request, PigatoErrorCodes.WorkerTimeout);
                _metrics?.Abandoned(PigatoErrorCodes.WorkerTimeout);
                Log.Abandoned(_logger, PigatoErrorCodes.WorkerTimeout, worker.Id, 1, $"request {request.Rid} held past its timeout plus {InFlightGrace.TotalSeconds:0.#} s; the worker's slot is freed");
                _dispatcher.MarkServedBy(worker.Service);
            }
        }
    }

    /// <summary>
    /// The broker stops: every request held gets <c>ERR_BROKER_STOPPED</c> (but <c>persist</c> ones in a store, which stay
    /// there for the next start), every worker a DISCONNECT.
    /// </summary>
    public void Shutdown()
    {
        foreach (var request in _requests.All.ToList())
        {
            if (!(request.IsDurable && _requests.Journal is not null))
            {
                Fail(request, PigatoErrorCodes.BrokerStopped);
            }
        }

        foreach (var worker in _workers.All.ToList())
        {
            _output.SendDisconnect(worker.Identity);
            _workers.Remove(worker);
        }

        _requests.Clear();
        _dispatcher.Clear();
    }

    /// <summary>Hands queued requests, oldest first, to available workers, for every queue marked since the last call.</summary>
    private void DispatchPending()
    {
        while (_dispatcher.TryTakePending(out var entry))
        {
            Dispatch(entry);
        }
    }

    /// <summary>
    /// A request that only some workers may take (workerId, earlier rejections) is skipped, not waited on,
    /// so it never blocks the rest of its queue.
    /// </summary>
    private void Dispatch(ServiceEntry entry)
    {
        var candidates = _dispatcher.CandidatesFor(entry);
        var node = entry.Queue.First;
        var now = _time.GetTimestamp();
        while (node is not null && candidates.Count > 0)
        {
            var next = node.Next;
            var request = node.Value;
            if (request.IsExpired(_time, now))
            {
                Expire(request);
            }
            else if (_dispatcher.Pick(candidates, request) is { } worker)
            {
                _requests.Assign(request, worker);
                request.DispatchedAt = now;
                request.CarryRemainingBudget(_time, now);
                worker.Dispatched++;
                request.Activity?.AddEvent(new System.Diagnostics.ActivityEvent("dispatched", tags: new System.Diagnostics.ActivityTagsCollection { ["pigato.worker.id"] = worker.Id }));
                switch (_output.SendRequest(worker, request))
                {
                    case SendResult.Sent:
                        if (_logger.IsEnabled(LogLevel.Debug))
                        {
                            Log.Request(_logger, request.Rid, request.Service.Name, "dispatched to", worker.Id);
                        }

                        break;
                    case SendResult.Queued:
                        // The worker reads slower than it is sent to: it takes nothing more until its queue drains.
                        worker.Backlogged = true;
                        break;
                    case SendResult.Overflow:
                        _metrics?.SlowConsumer();
                        RemoveWorker(worker, "slow consumer (outbound queue full)", sendDisconnect: true, undelivered: [request]);
                        break;
                    default:
                        // The request goes back to the head of its queue when the worker's requests are sorted out.
                        RemoveWorker(worker, "unreachable", sendDisconnect: false, undelivered: [request]);
                        break;
                }
            }
            else if (!request.IsConstrained)
            {
                break;
            }

            node = next;
        }
    }

    private void ExpireQueuedRequests()
    {
        var now = _time.GetTimestamp();
        foreach (var entry in _dispatcher.Services)
        {
            for (var node = entry.Queue.First; node is not null;)
            {
                var next = node.Next;
                if (node.Value.IsExpired(_time, now))
                {
                    Expire(node.Value);
                }

                node = next;
            }
        }
    }

    /// <summary>A cancelled request's worker is done with it: it ends, and the freed slot takes the next request.</summary>
    private void EndCancelled(BrokerRequest request, BrokerWorker worker)
    {
        _requests.End(request, PigatoErrorCodes.Cancelled);
        _dispatcher.MarkServedBy(worker.Service);
        DispatchPending();
    }

    /// <summary>Drops a queued request whose timeout has passed; its client fails it with C_TIMEOUT on its own.</summary>
    private void Expire(BrokerRequest request)
    {
        _requests.End(request, PigatoErrorCodes.Timeout);
        _metrics?.Expired();
        Log.Request(_logger, request.Rid, request.Service.Name, "expired in queue");
    }

    /// <summary>Ends a request with the broker's own error reply.</summary>
    private void Fail(BrokerRequest request, string code)
    {
        _requests.End(request, code);
        _metrics?.Failed(code);
        Log.Request(_logger, request.Rid, request.Service.Name, code);
        if (request.ReplyTo is { } client && !_output.SendError(client, request.RidBytes, code, request.ReplyCompact))
        {
            _output.ReportError(PigatoErrorCodes.Unroutable, $"Error reply {code} for request {request.Rid} could not reach its client.", Utf8.Decode(client));
        }
    }

    /// <summary>A request of this client: sent under this identity, or a <c>persist</c> one re-attached to it.</summary>
    private bool TryGetRequestOfClient(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, out BrokerRequest request) =>
        _requests.TryGet(clientId, rid, out request) || (_requests.TryGetDurable(rid, out request) && clientId.SequenceEqual(request.ReplyTo));

    private bool TryGetRequestOfWorker(ReadOnlySpan<byte> identity, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, out BrokerWorker worker, out BrokerRequest request)
    {
        request = null!;
        if (!_workers.TryGet(identity, out worker))
        {
            UnknownWorker(identity);
            return false;
        }

        _workers.Touch(worker, _time.GetTimestamp());
        if (!PeerKey.TryGet(worker.InFlight, clientId, rid, out request))
        {
            if (worker.ForgetAbandoned(clientId, rid))
            {
                // The broker gave up on it past its timeout: a late reply, not a protocol violation.
                _output.ReportError(PigatoErrorCodes.WorkerTimeout, $"Late reply for request {Utf8.Decode(rid)} dropped: the broker freed it past its timeout.", worker.Id);
                return false;
            }

            ProtocolViolation(worker, $"reply for request {Utf8.Decode(rid)} that it does not hold");
            return false;
        }

        return true;
    }

    /// <summary>A message from a worker that is not registered: tell it to register again.</summary>
    private void UnknownWorker(ReadOnlySpan<byte> identity)
    {
        _output.ReportError(PigatoErrorCodes.WorkerProtocol, "Message from an unregistered worker; sent DISCONNECT.", Utf8.Decode(identity));
        _output.SendDisconnect(identity);
    }

    private void ProtocolViolation(BrokerWorker worker, string what)
    {
        _output.ReportError(PigatoErrorCodes.WorkerProtocol, $"Worker disconnected: {what}.", worker.Id);
        RemoveWorker(worker, "protocol violation", sendDisconnect: true);
    }

    /// <summary>
    /// Forgets a worker. Its requests with <c>retry</c> (and <paramref name="undelivered"/>, which it never
    /// received) go back to the head of their queue; the others get the error reply
    /// <see cref="PigatoErrorCodes.WorkerLost"/> (the original dropped them silently).
    /// </summary>
    private void RemoveWorker(BrokerWorker worker, string reason, bool sendDisconnect, IReadOnlyCollection<BrokerRequest>? undelivered = null)
    {
        if (!_workers.Remove(worker))
        {
            return;
        }

        _dispatcher.OnWorkerSetChanged(worker.Service);
        int retried = 0, failed = 0;
        foreach (var request in worker.InFlight.Values.ToList())
        {
            if (request.Cancelled)
            {
                // Its client gave up on it: never retried.
                _requests.End(request, PigatoErrorCodes.Cancelled);
            }
            else if (request.Parsed.Retry || request.IsDurable || (undelivered is not null && undelivered.Contains(request)))
            {
                // A persist request is at least once: it runs again elsewhere, as with retry.
                request.Activity?.AddEvent(new System.Diagnostics.ActivityEvent("retried"));
                _requests.Requeue(request);
                retried++;
            }
            else
            {
                Fail(request, PigatoErrorCodes.WorkerLost);
                failed++;
            }
        }

        _output.DiscardQueued(worker.Identity);
        if (sendDisconnect)
        {
            _output.SendDisconnect(worker.Identity);
        }

        if (_leaveLog.TryTake(out var leavesNotLogged))
        {
            LogNotLogged("left", leavesNotLogged);
            Log.WorkerLeft(_logger, worker.Id, worker.Service.Name, reason, retried, failed);
        }
        DirectoryChanged();
    }

    /// <summary>Publishes <c>$dir {service: [workerIds]}</c> on the internal channel for core services.</summary>
    private void PublishDirectory()
    {
        _directoryChanged = false;
        if (string.IsNullOrEmpty(_options.InternalEndpoint))
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write(DirectoryTopic);
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            foreach (var entry in _dispatcher.Services)
            {
                if (!entry.Registered)
                {
                    continue;
                }

                json.WriteStartArray(entry.Name);
                foreach (var worker in entry.Workers)
                {
                    json.WriteStringValue(worker.Id);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        _output.PublishDirectory(buffer.WrittenSpan.ToArray());
    }

    /// <summary>A client identity that heartbeats: what it authenticated as (null: nothing), and when it was last heard from.</summary>
    private sealed class HeardClient
    {
        public string? Principal { get; init; }

        public long LastHeard { get; set; }
    }
}
