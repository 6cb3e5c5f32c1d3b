namespace Pigato.Routing;

/// <summary>
/// One service name, requested or registered: the queue of requests asking for it (fair across clients), the workers
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

    public ServiceQueue Queue { get; } = new();

    public List<BrokerWorker> Workers { get; } = [];

    /// <summary>True once a worker registered under this name: such entries stay listed in the directory.</summary>
    public bool Registered { get; set; }

    /// <summary>True while the entry waits in the dispatcher's list.</summary>
    public bool DispatchPending { get; set; }

    /// <summary>The registered services that serve this name, best first (valid while <see cref="CandidatesVersion"/> is current).</summary>
    public IReadOnlyList<ServiceEntry> Candidates { get; set; } = [];

    public int CandidatesVersion { get; set; } = -1;

    /// <summary>Requested names whose cached candidates include this service: their queues move when its workers free up.</summary>
    public HashSet<ServiceEntry> Dependents { get; } = [];

    /// <summary>Requests for this name the broker holds, queued or at a worker (a request at a worker may come back to the queue).</summary>
    public int Held { get; set; }

    /// <summary>True when nothing refers to the entry any more and it can be forgotten.</summary>
    public bool IsUnused => !Registered && Held == 0 && Workers.Count == 0;
}
