namespace Pigato.Routing;

/// <summary>
/// The requests waiting for one service name, in lanes (<see cref="FairQueuing"/>): one per client or principal, first in
/// first out within a lane; the lanes take turns, so that one client's flood does not make the others wait behind it. With
/// <see cref="FairQueuing.None"/> every request is in one lane: PIGATO's single FIFO. Every operation takes constant time.
/// </summary>
internal sealed class ServiceQueue
{
    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

    /// <summary>The lanes with requests waiting, the one whose turn comes next first.</summary>
    private readonly LinkedList<Lane> _turns = new();

    /// <summary>Requests waiting, in every lane.</summary>
    public int Count { get; private set; }

    /// <summary>Lanes with requests waiting.</summary>
    public int Lanes => _turns.Count;

    /// <summary>The lane whose turn it is; null when nothing waits.</summary>
    public Lane? Next => _turns.First?.Value;

    /// <summary>
    /// Queues a request at the end of its lane, or at its head (<paramref name="atHead"/>: a request given back by its
    /// worker), whose lane then has the next turn.
    /// </summary>
    public void Add(BrokerRequest request, bool atHead)
    {
        if (!_lanes.TryGetValue(request.LaneKey, out var lane))
        {
            lane = new Lane(request.LaneKey);
            _lanes.Add(lane.Key, lane);
        }

        request.QueueNode = atHead ? lane.Requests.AddFirst(request) : lane.Requests.AddLast(request);
        request.Lane = lane;
        if (lane.Turn is null)
        {
            lane.Turn = atHead ? _turns.AddFirst(lane) : _turns.AddLast(lane);
        }
        else if (atHead)
        {
            _turns.Remove(lane.Turn);
            _turns.AddFirst(lane.Turn);
        }

        Count++;
    }

    /// <summary>Takes a request out of its lane (dispatched, expired, ended); an emptied lane is forgotten.</summary>
    public void Remove(BrokerRequest request)
    {
        var lane = request.Lane!;
        lane.Requests.Remove(request.QueueNode!);
        request.QueueNode = null;
        request.Lane = null;
        Count--;
        if (lane.Requests.Count == 0)
        {
            _turns.Remove(lane.Turn!);
            lane.Turn = null;
            _lanes.Remove(lane.Key);
        }
    }

    /// <summary>The lane had its turn: the next lane's comes (nothing happens to a lane emptied meanwhile).</summary>
    public void PassTurn(Lane lane)
    {
        if (lane.Turn is { } turn && _turns.Count > 1)
        {
            _turns.Remove(turn);
            _turns.AddLast(turn);
        }
    }

    /// <summary>The waiting requests <paramref name="match"/> is true for (none: null), lane by lane.</summary>
    public List<BrokerRequest>? Where(Func<BrokerRequest, bool> match)
    {
        List<BrokerRequest>? found = null;
        foreach (var lane in _turns)
        {
            foreach (var request in lane.Requests)
            {
                if (match(request))
                {
                    (found ??= []).Add(request);
                }
            }
        }

        return found;
    }

    /// <summary>The requests of one client or principal, first in first out, and its place among the turns.</summary>
    internal sealed class Lane(string key)
    {
        public string Key { get; } = key;

        public LinkedList<BrokerRequest> Requests { get; } = new();

        /// <summary>Its place among the turns while it has requests.</summary>
        public LinkedListNode<Lane>? Turn { get; set; }
    }
}
