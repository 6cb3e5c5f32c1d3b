using Microsoft.Extensions.Logging;
using Pigato.Internal;
using Pigato.Monitoring;

namespace Pigato.Routing;

/// <summary>
/// The broker's rules without sockets: it is driven by the messages peers send (already decoded) and by
/// heartbeat ticks, reads time from a <see cref="TimeProvider"/>, and acts through an <see cref="IBrokerOutput"/>.
/// One thread at a time (the broker's loop).
/// </summary>
/// <remarks>
/// One file per concern: clients (<c>BrokerCore.Clients.cs</c>), workers (<c>.Workers.cs</c>), their replies
/// (<c>.Replies.cs</c>), dispatch and expiry (<c>.Dispatch.cs</c>), the services the broker answers itself and its
/// statistics (<c>.CoreServices.cs</c>); security (<see cref="BrokerAuthorizer"/>), durable requests
/// (<see cref="DurableRequests"/>) and the directory (<see cref="BrokerDirectory"/>) are types of their own.
/// </remarks>
internal sealed partial class BrokerCore
{
    /// <summary>
    /// Concurrency assumed for a worker until its first heartbeat says otherwise. .NET workers send
    /// their limit in an extra READY frame; the Node.js original only in heartbeats.
    /// </summary>
    public const int DefaultWorkerConcurrency = 100;

    /// <summary>Workers joining (and, apart, leaving) logged one by one per second; past that, a count.</summary>
    private const int WorkerLinesPerSecond = 20;

    private readonly BrokerOptions _options;
    private readonly IBrokerOutput _output;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BrokerMetrics? _metrics;
    private readonly Dispatcher _dispatcher;
    private readonly RequestTable _requests;
    private readonly WorkerRegistry _workers;
    private readonly BrokerAuthorizer _authorizer;
    private readonly DurableRequests _durable;
    private readonly BrokerDirectory _directory;
    private readonly PoisonedRequests _poisoned = new();
    private readonly List<BrokerWorker> _quiet = [];
    private readonly RefusalLog _refusals;
    private readonly LogThrottle _joinLog;
    private readonly LogThrottle _leaveLog;
    private readonly DurationRecorder _durations = new();
    private readonly DateTimeOffset _startedAt;

    public BrokerCore(BrokerOptions options, IBrokerOutput output, TimeProvider time, ILogger logger, BrokerMetrics? metrics = null, Random? random = null, IRequestJournal? journal = null)
    {
        _options = options;
        _output = output;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _dispatcher = new Dispatcher(options.DispatchMode, random ?? Random.Shared);
        _requests = new RequestTable(_dispatcher, journal, journal is null ? 0 : options.MaxStoredRequests, options.FairQueuing, LaneWeight);
        _workers = new WorkerRegistry(options.Liveness, options.MaxInFlightBytesPerWorker);
        _refusals = new RefusalLog(logger, time, peerId => output.AddressOf(System.Text.Encoding.UTF8.GetBytes(peerId)));
        _authorizer = new BrokerAuthorizer(options.Permissions, _refusals, metrics);
        _durable = new DurableRequests(_requests, _dispatcher, output, options, time, logger, metrics);
        _directory = new BrokerDirectory(_dispatcher, _workers, output, time, publishes: !string.IsNullOrEmpty(options.InternalEndpoint));
        _joinLog = new LogThrottle(time, WorkerLinesPerSecond);
        _leaveLog = new LogThrottle(time, WorkerLinesPerSecond);
        _clientSilence = options.HeartbeatInterval * options.Liveness;
        _startedAt = time.GetUtcNow();
    }

    /// <summary>How long past its timeout a request may stay at a worker without a sign of life before its slot is freed.</summary>
    public TimeSpan InFlightGrace => _clientSilence;

    /// <summary>
    /// New permissions (the file changed): from now on requests are checked against them, and every worker whose principal
    /// may no longer serve its service is disconnected (its requests re-queued or failed).
    /// </summary>
    public void SetPermissions(Security.Permissions permissions)
    {
        foreach (var worker in _authorizer.Replace(permissions, _workers.All.ToList()))
        {
            RemoveWorker(worker, "revoked", sendDisconnect: true);
        }

        DispatchPending();
    }

    /// <summary>
    /// Queues again the <c>persist</c> requests read back from the store (at start, or taken over from a broker whose lease
    /// expired), with their age kept; those already here (their client re-sent them first) or answered here lately are skipped. Their replies are
    /// kept until their client re-attaches (see <see cref="BrokerOptions.KeptReplyWindow"/>). Returns how many were queued.
    /// </summary>
    public int Restore(IEnumerable<Persistence.StoredRequest> stored)
    {
        var restored = _durable.Restore(stored);
        ExpireQueuedRequests();
        DispatchPending();
        return restored;
    }

    /// <summary>The removals of these requests from the store are durable: their kept final replies go to their clients now.</summary>
    public void RemovalsDurable(IEnumerable<BrokerRequest> requests) => _durable.RemovalsDurable(requests);

    /// <summary>Publishes the directory if a change is waiting (the broker calls it every <see cref="BrokerDirectory.Period"/>).</summary>
    public void PublishDirectoryIfChanged() => _directory.PublishIfChanged();

    /// <summary>One heartbeat period: purge silent workers, heartbeat quiet ones, expire queued requests, forget unused names.</summary>
    public void Tick()
    {
        _quiet.Clear();
        foreach (var worker in _workers.Tick(_quiet))
        {
            RemoveWorker(worker, "purged after missing heartbeats", sendDisconnect: true, vanished: true);
        }

        foreach (var worker in _quiet)
        {
            _output.SendWorkerHeartbeat(worker);
        }

        _directory.Republish();
        LogNotLogged("joined", _joinLog.TakeSuppressed());
        LogNotLogged("left", _leaveLog.TakeSuppressed());
        ExpireQueuedRequests();
        DropRequestsOfSilentClients();
        _durable.ExpireKeptReplies();
        ForgetSilentClients();
        FreeAbandonedSlots();
        _dispatcher.ForgetUnused();
        DispatchPending();
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

    private void LogNotLogged(string what, int count)
    {
        if (count > 0)
        {
            Log.WorkersNotLogged(_logger, count, what);
        }
    }
}
