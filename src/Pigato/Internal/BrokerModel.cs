using System.Diagnostics;

namespace Pigato.Internal;

/// <summary>A request the broker holds, from arrival to its final reply.</summary>
internal sealed class BrokerRequest(byte[] rid, byte[] clientId, ServiceEntry service, byte[] data, byte[] options, BrokerRequestOptions parsed)
{
    public string Rid { get; } = Utf8.Decode(rid);

    public byte[] RidBytes { get; } = rid;

    public byte[] ClientId { get; } = clientId;

    /// <summary>The requested service (its queue).</summary>
    public ServiceEntry Service { get; } = service;

    public byte[] Data { get; } = data;

    public byte[] Options { get; } = options;

    public BrokerRequestOptions Parsed { get; } = parsed;

    public long ArrivedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>The worker handling it; null while queued.</summary>
    public BrokerWorker? Worker { get; set; }

    /// <summary>Where it waits in its service queue; null while in flight.</summary>
    public LinkedListNode<BrokerRequest>? QueueNode { get; set; }

    /// <summary>Workers that rejected it; never offered it again.</summary>
    public HashSet<string>? RejectedBy { get; set; }

    /// <summary>True when only some workers may take it (workerId or rejections).</summary>
    public bool IsConstrained => Parsed.WorkerId is not null || RejectedBy is not null;

    public bool IsExpired(long now) =>
        Parsed.Timeout >= 0 && Stopwatch.GetElapsedTime(ArrivedAt, now).TotalMilliseconds > Parsed.Timeout;

    public bool Accepts(BrokerWorker worker) =>
        (Parsed.WorkerId is null || Parsed.WorkerId == worker.Id) && (RejectedBy is null || !RejectedBy.Contains(worker.Id));
}

/// <summary>A registered worker as the broker sees it.</summary>
internal sealed class BrokerWorker(string id, byte[] identity, ServiceEntry service, int liveness)
{
    public string Id { get; } = id;

    public byte[] Identity { get; } = identity;

    /// <summary>The service it registered as.</summary>
    public ServiceEntry Service { get; } = service;

    /// <summary>Most requests in flight at once; -1 for no limit.</summary>
    public int Concurrency { get; set; } = -1;

    public int Liveness { get; set; } = liveness;

    /// <summary>True when the worker sent something since the last heartbeat tick.</summary>
    public bool HeardSinceTick { get; set; } = true;

    public Dictionary<string, BrokerRequest> InFlight { get; } = new(StringComparer.Ordinal);

    public long Served { get; set; }

    public bool IsAvailable => Concurrency < 0 || InFlight.Count < Concurrency;
}

/// <summary>
/// One service name, requested or registered: the FIFO queue of requests asking for it, the workers
/// registered under it, and (for requested names) the cached resolution to registered services.
/// </summary>
internal sealed class ServiceEntry
{
    public ServiceEntry(string name)
    {
        Name = name;
        NameBytes = System.Text.Encoding.UTF8.GetBytes(name);
        IsWildcard = name.EndsWith('*');
        var at = name.LastIndexOf('@');
        if (at > 0 && Semver.SemVersion.TryParse(name[(at + 1)..], Semver.SemVersionStyles.Strict, out var version))
        {
            BaseName = name[..at];
            Version = version;
        }
    }

    public string Name { get; }

    public byte[] NameBytes { get; }

    /// <summary>Registered as <c>prefix*</c>: serves any name starting with the prefix that has no worker of its own.</summary>
    public bool IsWildcard { get; }

    /// <summary>For <c>name@x.y.z</c>: the name part.</summary>
    public string? BaseName { get; }

    /// <summary>For <c>name@x.y.z</c>: the version, matched against requested npm ranges.</summary>
    public Semver.SemVersion? Version { get; }

    public LinkedList<BrokerRequest> Queue { get; } = new();

    public List<BrokerWorker> Workers { get; } = [];

    /// <summary>True once a worker registered under this name: such entries stay listed in the directory.</summary>
    public bool Registered { get; set; }

    /// <summary>True while the entry waits in the broker's dispatch list.</summary>
    public bool DispatchPending { get; set; }

    /// <summary>The registered services that serve this name, best first (valid while <see cref="CandidatesVersion"/> is current).</summary>
    public IReadOnlyList<ServiceEntry> Candidates { get; set; } = [];

    public int CandidatesVersion { get; set; } = -1;

    /// <summary>Requested names whose cached candidates include this service: their queues move when its workers free up.</summary>
    public HashSet<ServiceEntry> Dependents { get; } = [];

    /// <summary>True when nothing refers to the entry any more and it can be forgotten.</summary>
    public bool IsUnused => !Registered && Queue.Count == 0 && Workers.Count == 0;
}
