namespace Pigato.Routing;

/// <summary>
/// Every request the broker holds, by client and rid. The one place that creates a request, moves it
/// between its service queue and a worker, and ends it: nothing else touches those links.
/// </summary>
internal sealed class RequestTable(Dispatcher dispatcher, IRequestJournal? journal = null, int rememberAnswered = 0, FairQueuing fairness = FairQueuing.PerClient, Func<BrokerRequest, int>? laneWeight = null)
{
    private readonly HashSet<string> _answered = new(StringComparer.Ordinal);
    private readonly Queue<string> _answeredOrder = new();
    private readonly Dictionary<string, BrokerRequest> _requests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, BrokerRequest> _durable = new(StringComparer.Ordinal);
    private bool _keepStored;
    private readonly PeerTable<BrokerClient> _clients = new();

    public int Count => _requests.Count;

    public IEnumerable<BrokerRequest> All => _requests.Values;

    /// <summary>The bytes every request held holds, counted against <see cref="BrokerOptions.MaxHeldBytes"/>.</summary>
    public long HeldBytes { get; private set; }

    /// <summary>The clients that have requests here (a client with none is forgotten).</summary>
    public IReadOnlyCollection<BrokerClient> Clients => _clients.Values;

    /// <summary>The <c>persist</c> requests held (counted against <see cref="BrokerOptions.MaxStoredRequests"/>).</summary>
    public int DurableCount => _durable.Count;

    /// <summary>Final replies kept for durable requests (see <see cref="Park"/>).</summary>
    public int KeptReplies { get; private set; }

    /// <summary>The journal of durable requests, or null without a store.</summary>
    public IRequestJournal? Journal => journal;

    /// <summary>
    /// True when a <c>persist</c> request of this rid was answered here lately (the last ones, as many as the limit of
    /// stored requests): a copy taken over from a dead broker's store is not run again.
    /// </summary>
    public bool WasAnswered(ReadOnlySpan<byte> rid) => _answered.Count > 0 && _answered.Contains(PeerKey.Of(rid));

    /// <summary>A <c>persist</c> request by its rid alone (whoever its client now is).</summary>
    public bool TryGetDurable(ReadOnlySpan<byte> rid, out BrokerRequest request) => PeerKey.TryGet(_durable, rid, out request);

    public bool TryGetClient(ReadOnlySpan<byte> clientId, out BrokerClient client) => _clients.TryGet(clientId, out client);

    public bool Contains(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid) => PeerKey.TryGet(_requests, clientId, rid, out _);

    public bool TryGet(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, out BrokerRequest request) =>
        PeerKey.TryGet(_requests, clientId, rid, out request);

    /// <summary>
    /// Creates a request and queues it at the tail of its service's queue. A <c>persist</c> one is durable: journalled
    /// (unless <paramref name="storedAt"/> says it comes from the store) and found by its rid alone.
    /// </summary>
    /// <remarks><paramref name="options"/> is kept as it is (the caller shares one array between requests with the same options).</remarks>
    /// <remarks><paramref name="principal"/>: who the client proved to be (the lane with <see cref="FairQueuing.PerPrincipal"/>); null: its own lane.</remarks>
    public BrokerRequest Create(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, ServiceEntry service, ReadOnlySpan<byte> data, byte[] options, BrokerRequestOptions parsed, long now, System.Diagnostics.Activity? activity = null, long storedAt = 0, bool fromStore = false, string? principal = null)
    {
        if (!TryGetClient(clientId, out var client))
        {
            client = new BrokerClient(PeerKey.Of(clientId), clientId.ToArray(), now);
            _clients.Add(client.Key, client);
        }

        var request = new BrokerRequest(PeerKey.Of(clientId, rid), client, rid.ToArray(), client.Identity, service, data.ToArray(), options, parsed, now)
        {
            IsDurable = parsed.Persist,
            StoredAt = storedAt,
            Activity = activity,
            LaneKey = fairness switch
            {
                FairQueuing.None => "",
                // Outside Latin-1, so that no client's key (one char per identity byte) is ever a principal's.
                FairQueuing.PerPrincipal when principal is not null => '\u0100' + principal,
                _ => client.Key,
            },
        };
        if (fromStore)
        {
            request.ReplyTo = null;
        }

        _requests.Add(request.Key, request);
        if (request.IsDurable)
        {
            _durable[request.DurableKey] = request;
            if (!fromStore)
            {
                journal?.Stored(request);
            }
        }

        HeldBytes += request.HeldBytes;
        service.Held++;
        client.Pending++;
        client.Bytes += request.HeldBytes;
        client.LastHeard = now;
        Enqueue(request, atHead: false);
        return request;
    }

    /// <summary>Puts a request that no worker holds into its service's queue and marks the queue for dispatch.</summary>
    public void Enqueue(BrokerRequest request, bool atHead)
    {
        request.Service.Queue.Add(request, atHead, laneWeight);
        dispatcher.Mark(request.Service);
    }

    /// <summary>Moves a queued request to a worker.</summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Performance", "CA1822", Justification = "Every move of a request goes through the table, by design.")]
    public void Assign(BrokerRequest request, BrokerWorker worker)
    {
        Unqueue(request);
        request.Worker = worker;
        worker.Hold(request);
    }

    /// <summary>The worker holding a request was lost: counted in the request, and in its stored record when it is durable.</summary>
    public void WorkerLost(BrokerRequest request)
    {
        request.RecordWorkerLost();
        if (request.IsDurable)
        {
            journal?.Updated(request);
        }
    }

    /// <summary>Takes a request back from its worker (rejected, or the worker lost) and queues it at the head again.</summary>
    public void Requeue(BrokerRequest request)
    {
        Release(request);
        Enqueue(request, atHead: true);
    }

    /// <summary>A durable request's final reply is kept for its client to re-attach: the worker's slot is freed, the request stays.</summary>
    public void Park(BrokerRequest request, byte[][] reply, long now)
    {
        Release(request);
        request.ParkedReply = reply;
        request.ParkedAt = now;
        KeptReplies++;
    }

    /// <summary>Forgets a request wherever it is (queue or worker); <paramref name="outcome"/> is its error code, null for a final reply.</summary>
    public void End(BrokerRequest request, string? outcome = null)
    {
        Internal.Tracing.Stop(request.Activity, outcome);
        request.Activity = null;
        Unqueue(request);
        Release(request);
        if (!_requests.Remove(request.Key))
        {
            return;
        }

        if (request.IsDurable)
        {
            ForgetDurable(request, answered: outcome is null);
        }

        HeldBytes -= request.HeldBytes;
        request.Service.Held--;
        var client = request.Client;
        client.Bytes -= request.HeldBytes;
        if (--client.Pending == 0)
        {
            _clients.Remove(client.Key);
        }
    }

    /// <summary>A durable request ends: it leaves the store (unless its removal is journalled already, or the broker stops), and an answered one is remembered.</summary>
    private void ForgetDurable(BrokerRequest request, bool answered)
    {
        _durable.Remove(request.DurableKey);
        if (!_keepStored && !request.AwaitingRemoval)
        {
            journal?.Removed(request);
        }

        if (request.ParkedReply is not null)
        {
            KeptReplies--;
        }

        if (answered && rememberAnswered > 0 && _answered.Add(request.DurableKey))
        {
            _answeredOrder.Enqueue(request.DurableKey);
            if (_answeredOrder.Count > rememberAnswered)
            {
                _answered.Remove(_answeredOrder.Dequeue());
            }
        }
    }

    /// <summary>Forgets every request (the broker is stopping): durable ones stay in the store, for the next start to queue again.</summary>
    public void Clear()
    {
        _keepStored = true;
        foreach (var request in _requests.Values.ToList())
        {
            End(request, PigatoErrorCodes.BrokerStopped);
        }
    }

    private static void Unqueue(BrokerRequest request)
    {
        if (request.QueueNode is not null)
        {
            request.Service.Queue.Remove(request);
        }
    }

    private static void Release(BrokerRequest request)
    {
        if (request.Worker is { } worker)
        {
            worker.Free(request);
            request.Worker = null;
        }
    }
}
