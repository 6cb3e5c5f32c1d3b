using Pigato.Routing;

namespace Pigato.Persistence;

/// <summary>
/// The broker's journal, written off its loop: the loop records what became durable or ended, and at the end of each
/// wake-up <see cref="Commit"/> hands that batch to this writer's thread, which writes everything handed since its last
/// write in one transaction (so batches grow with load: one commit, one fsync, per write whatever the request rate).
/// A write that fails is kept and tried again; meanwhile the store is unavailable and new <c>persist</c> requests are
/// refused. The thread also runs the store's maintenance (Redis: lease renewal and take-over).
/// </summary>
internal sealed class StoreWriter : IRequestJournal, IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(250);

    private readonly IRequestStore _store;
    private readonly Action<Action> _post;
    private readonly Action<IReadOnlyList<StoredRequest>> _takenOver;
    private readonly Action<IReadOnlyList<BrokerRequest>> _removed;
    private List<BrokerRequest> _loopWaiters = [];
    private List<BrokerRequest> _queuedWaiters = [];
    private readonly Action<string, string> _report;
    private readonly StoreBatch _loopBatch = new();
    private readonly object _gate = new();
    private readonly Thread _thread;
    private StoreBatch _queued = new();
    private StoreBatch? _failed;
    private bool _stopping;
    private volatile bool _available = true;

    /// <param name="store">The opened store.</param>
    /// <param name="post">Runs an action on the broker's loop.</param>
    /// <param name="takenOver">Requests the store took over from a dead broker (run on the loop).</param>
    /// <param name="removed">Requests whose removal (<see cref="RemoveBeforeReply"/>) is durable: their replies may go (run on the loop).</param>
    /// <param name="report">Reports a change of the store's health: an error code and a message (run on the loop).</param>
    public StoreWriter(IRequestStore store, Action<Action> post, Action<IReadOnlyList<StoredRequest>> takenOver, Action<IReadOnlyList<BrokerRequest>> removed, Action<string, string> report)
    {
        _removed = removed;
        _store = store;
        _post = post;
        _takenOver = takenOver;
        _report = report;
        _thread = new Thread(Run) { IsBackground = true, Name = "Pigato store writer" };
        _thread.Start();
    }

    public bool IsAvailable => _available;

    public void Stored(BrokerRequest request) =>
        _loopBatch.Store(request.DurableKey, new StoredRequest(request.RidBytes, request.ClientId, request.Service.Name, request.Data, request.Options, request.StoredAt));

    public void Updated(BrokerRequest request) =>
        _loopBatch.Update(request.DurableKey, new StoredRequest(request.RidBytes, request.ClientId, request.Service.Name, request.Data, request.Options, request.StoredAt));

    public void Removed(BrokerRequest request) => _loopBatch.Remove(request.DurableKey, request.RidBytes);

    public bool MayHold(BrokerRequest request) => !_loopBatch.StoresNew(request.DurableKey);

    public void RemoveBeforeReply(BrokerRequest request)
    {
        _loopBatch.Remove(request.DurableKey, request.RidBytes);
        _loopWaiters.Add(request);
    }

    /// <summary>Hands what this loop wake-up changed to the writer (loop thread).</summary>
    public void Commit()
    {
        if (_loopBatch.IsEmpty && _loopWaiters.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            _queued.Absorb(_loopBatch);
            _queuedWaiters.AddRange(_loopWaiters);
            _loopWaiters.Clear();

            Monitor.Pulse(_gate);
        }
    }

    /// <summary>Waits (at most 5 s) until everything committed is written, then stops the thread and closes the store.</summary>
    public void Dispose() => Stop(TimeSpan.FromSeconds(5));

    /// <summary>Waits (at most <paramref name="limit"/>) until everything committed is written, then stops the thread and closes the store.</summary>
    public void Stop(TimeSpan limit)
    {
        lock (_gate)
        {
            _stopping = true;
            Monitor.Pulse(_gate);
        }

        _thread.Join(limit);
        _store.Dispose();
    }

    private void Run()
    {
        var period = _store.MaintenancePeriod;
        var nextMaintenance = period == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)period.TotalMilliseconds;
        while (true)
        {
            StoreBatch batch;
            List<BrokerRequest> waiters;
            lock (_gate)
            {
                while (_queued.IsEmpty && _queuedWaiters.Count == 0 && _failed is null && !_stopping && Environment.TickCount64 < nextMaintenance)
                {
                    Monitor.Wait(_gate, (int)Math.Clamp(nextMaintenance - Environment.TickCount64, 1, int.MaxValue));
                }

                if (_stopping && _queued.IsEmpty && (_failed is null || !_available))
                {
                    return;
                }

                batch = _queued;
                _queued = new StoreBatch();
                waiters = _queuedWaiters;
                _queuedWaiters = [];
                if (_failed is { } failed)
                {
                    failed.Absorb(batch);
                    batch = failed;
                    _failed = null;
                }
            }

            if (!batch.IsEmpty)
            {
                Write(batch);
            }

            if (waiters.Count > 0)
            {
                // Durable, or the store is failing (the removals stay queued for the next try): either way the replies that
                // waited for these removals go now, for a store that is down must not hold answers back.
                Post(() => _removed(waiters));
            }

            if (Environment.TickCount64 >= nextMaintenance)
            {
                Maintain();
                nextMaintenance = Environment.TickCount64 + (long)period.TotalMilliseconds;
            }

            lock (_gate)
            {
                if (_failed is not null && !_stopping)
                {
                    Monitor.Wait(_gate, RetryDelay);
                }
            }
        }
    }

    private void Write(StoreBatch batch)
    {
        try
        {
            _store.Write(batch);
            Healthy();
        }
#pragma warning disable CA1031 // A store that fails is reported and retried; it must never end the writer.
        catch (Exception e)
#pragma warning restore CA1031
        {
            lock (_gate)
            {
                _failed = batch;
            }

            Unhealthy($"writing {batch.Count} changes failed: {e.Message}");
        }
    }

    private void Maintain()
    {
        try
        {
            var taken = _store.Maintain();
            Healthy();
            if (taken.Count > 0)
            {
                Post(() => _takenOver(taken));
            }
        }
#pragma warning disable CA1031
        catch (Exception e)
#pragma warning restore CA1031
        {
            Unhealthy($"lease renewal failed: {e.Message}");
        }
    }

    /// <summary>Runs an action on the broker's loop; once the loop has stopped there is nobody left to tell.</summary>
    private void Post(Action action)
    {
        try
        {
            _post(action);
        }
        catch (PigatoException)
        {
        }
    }

    private void Healthy()
    {
        if (!_available)
        {
            _available = true;
            Post(() => _report(PigatoErrorCodes.StoreUnavailable, $"The request store {_store.Description} is written again; persist requests are accepted."));
        }
    }

    private void Unhealthy(string why)
    {
        if (_available)
        {
            _available = false;
            Post(() => _report(PigatoErrorCodes.StoreUnavailable, $"The request store {_store.Description} is unavailable ({why}); persist requests are refused until it is back, other requests still flow."));
        }
    }
}
