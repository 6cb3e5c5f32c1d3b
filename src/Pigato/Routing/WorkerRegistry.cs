namespace Pigato.Routing;

/// <summary>The registered workers, by identity, and the liveness rules that keep or purge them.</summary>
internal sealed class WorkerRegistry(int liveness, long maxInFlightBytes)
{
    private readonly PeerTable<BrokerWorker> _workers = new();

    public int Count => _workers.Count;

    public IReadOnlyCollection<BrokerWorker> All => _workers.Values;

    public bool TryGet(ReadOnlySpan<byte> identity, out BrokerWorker worker) => _workers.TryGet(identity, out worker);

    /// <summary>Registers a worker under <paramref name="service"/>.</summary>
    public BrokerWorker Add(ReadOnlySpan<byte> identity, ServiceEntry service, int concurrency, long now)
    {
        var worker = new BrokerWorker(PeerKey.Of(identity), identity.ToArray(), service, liveness, concurrency, maxInFlightBytes) { LastHeard = now };
        _workers.Add(worker.Key, worker);
        service.Registered = true;
        service.Workers.Add(worker);
        return worker;
    }

    /// <summary>Forgets a worker; false when it was not registered (already removed).</summary>
    public bool Remove(BrokerWorker worker)
    {
        if (!_workers.Remove(worker.Key))
        {
            return false;
        }

        worker.Service.Workers.Remove(worker);
        return true;
    }

    /// <summary>Any message from the worker proves it alive; <paramref name="now"/> is the time it was heard.</summary>
    public void Touch(BrokerWorker worker, long now)
    {
        worker.Liveness = liveness;
        worker.HeardSinceTick = true;
        worker.LastHeard = now;
    }

    /// <summary>
    /// One heartbeat period passed: every worker loses one liveness. Returns those whose liveness ran out
    /// (to purge) and fills <paramref name="quiet"/> with the live ones that sent nothing (to heartbeat).
    /// </summary>
    public List<BrokerWorker> Tick(List<BrokerWorker> quiet)
    {
        var expired = new List<BrokerWorker>();
        foreach (var worker in _workers.Values)
        {
            worker.Liveness--;
            if (worker.Liveness < 0)
            {
                expired.Add(worker);
            }
            else if (!worker.HeardSinceTick)
            {
                quiet.Add(worker);
            }

            worker.HeardSinceTick = false;
        }

        return expired;
    }
}
