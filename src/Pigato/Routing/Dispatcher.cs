namespace Pigato.Routing;

/// <summary>
/// The service names the broker knows, which queues may now be served, and which worker takes a request.
/// It decides; <see cref="BrokerCore"/> acts on the decisions.
/// </summary>
internal sealed class Dispatcher(DispatchMode mode, Random random)
{
    private readonly Dictionary<string, ServiceEntry> _services = new(StringComparer.Ordinal);
    private readonly ServiceResolver _resolver = new();
    private readonly List<ServiceEntry> _pending = [];
    private readonly List<BrokerWorker> _candidates = [];

    public IReadOnlyCollection<ServiceEntry> Services => _services.Values;

    /// <summary>The entry of a service name the broker knows already.</summary>
    public bool TryGetService(string name, out ServiceEntry entry) => _services.TryGetValue(name, out entry!);

    /// <summary>The entry of a service name, made on first use.</summary>
    public ServiceEntry ServiceFor(ReadOnlySpan<byte> name)
    {
        if (!Internal.Utf8.TryGetValue(_services, name, out var entry))
        {
            entry = new ServiceEntry(Internal.Utf8.Decode(name));
            _services.Add(entry.Name, entry);
        }

        return entry;
    }

    /// <summary>Notes that a queue may now be served; the work is done once per message, in <see cref="TryTakePending"/> order.</summary>
    public void Mark(ServiceEntry requested)
    {
        if (!requested.DispatchPending && requested.Queue.Count > 0)
        {
            requested.DispatchPending = true;
            _pending.Add(requested);
        }
    }

    /// <summary>A worker of <paramref name="registered"/> may have room: mark every queue it serves.</summary>
    public void MarkServedBy(ServiceEntry registered)
    {
        foreach (var requested in registered.Dependents)
        {
            Mark(requested);
        }
    }

    /// <summary>
    /// A service may have gained its first worker or lost its last: when it did, every cached resolution is
    /// stale, and every waiting queue gets a chance with the new set (so a request queued before a matching
    /// wildcard or semver worker registered is served when it does).
    /// </summary>
    public void OnWorkerSetChanged(ServiceEntry registered)
    {
        if (!_resolver.Update(registered))
        {
            return;
        }

        foreach (var entry in _services.Values)
        {
            entry.Dependents.Clear();
            Mark(entry);
        }
    }

    /// <summary>The next queue to serve, if any.</summary>
    public bool TryTakePending(out ServiceEntry entry)
    {
        if (_pending.Count == 0)
        {
            entry = null!;
            return false;
        }

        entry = _pending[^1];
        _pending.RemoveAt(_pending.Count - 1);
        entry.DispatchPending = false;
        return true;
    }

    /// <summary>The registered services that may serve <paramref name="requested"/>, best first.</summary>
    public IReadOnlyList<ServiceEntry> CandidatesFor(ServiceEntry requested) => _resolver.CandidatesFor(requested);

    /// <summary>The best available worker of the first candidate service that has one for this request.</summary>
    public BrokerWorker? Pick(IReadOnlyList<ServiceEntry> candidates, BrokerRequest request)
    {
        foreach (var service in candidates)
        {
            if (PickIn(service.Workers, request) is { } worker)
            {
                return worker;
            }
        }

        return null;
    }

    /// <summary>Forgets names only ever requested, with nothing queued, so that random names cannot grow the broker.</summary>
    public void ForgetUnused()
    {
        List<ServiceEntry>? unused = null;
        foreach (var entry in _services.Values)
        {
            if (entry.IsUnused)
            {
                (unused ??= []).Add(entry);
            }
        }

        foreach (var entry in unused ?? [])
        {
            _services.Remove(entry.Name);
            foreach (var candidate in entry.Candidates)
            {
                candidate.Dependents.Remove(entry);
            }
        }
    }

    /// <summary>Forgets every service (the broker is stopping).</summary>
    public void Clear()
    {
        foreach (var entry in _services.Values)
        {
            entry.Workers.Clear();
            _resolver.Update(entry);
        }

        _services.Clear();
        _pending.Clear();
    }

    private BrokerWorker? PickIn(List<BrokerWorker> workers, BrokerRequest request)
    {
        if (mode == DispatchMode.Rand)
        {
            _candidates.Clear();
            foreach (var worker in workers)
            {
                if (worker.IsAvailable && request.Accepts(worker))
                {
                    _candidates.Add(worker);
                }
            }

            return _candidates.Count == 0 ? null : _candidates[random.Next(_candidates.Count)];
        }

        BrokerWorker? best = null;
        foreach (var worker in workers)
        {
            if (!worker.IsAvailable || !request.Accepts(worker))
            {
                continue;
            }

            if (best is null
                || worker.InFlight.Count < best.InFlight.Count
                || (worker.InFlight.Count == best.InFlight.Count && worker.Served < best.Served))
            {
                best = worker;
            }
        }

        return best;
    }
}
