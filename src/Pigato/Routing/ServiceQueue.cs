namespace Pigato.Routing;

/// <summary>
/// The requests waiting for one service name, in lanes (<see cref="FairQueuing"/>): one per client or principal, first in
/// first out within a lane; the lanes take turns, so that one client's flood does not make the others wait behind it. With
/// <see cref="FairQueuing.None"/> every request is in one lane: PIGATO's single FIFO. Every operation takes constant time.
/// </summary>
internal sealed class ServiceQueue
{
    /// <summary>Emptied lanes kept for the next ones: a client whose requests go at once empties its lane at every request.</summary>
    private const int SpareLanes = 8;

    private readonly Dictionary<string, Lane> _lanes = new(StringComparer.Ordinal);
    private readonly Stack<Lane> _spare = new();

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
    /// worker), whose lane then has the next turn. A new lane gets <paramref name="weight"/> turns in a row (asked only then).
    /// </summary>
    public void Add(BrokerRequest request, bool atHead, Func<BrokerRequest, int>? weight = null)
    {
        if (!_lanes.TryGetValue(request.LaneKey, out var lane))
        {
            lane = _spare.TryPop(out var spare) ? spare : new Lane();
            lane.Key = request.LaneKey;
            lane.Weight = lane.Credits = weight?.Invoke(request) ?? 1;
            _lanes.Add(lane.Key, lane);
            if (atHead)
            {
                _turns.AddFirst(lane.Turn);
            }
            else
            {
                _turns.AddLast(lane.Turn);
            }
        }
        else if (atHead)
        {
            _turns.Remove(lane.Turn);
            _turns.AddFirst(lane.Turn);
        }

        request.QueueNode = atHead ? lane.AddFirst(request) : lane.AddLast(request);

        Count++;
    }

    /// <summary>Takes a request out of its lane (dispatched, expired, ended); an emptied lane is forgotten.</summary>
    public void Remove(BrokerRequest request)
    {
        // The node's list is its lane: a request needs no field of its own for it.
        var node = request.QueueNode!;
        var lane = (Lane)node.List!;
        lane.Remove(node);
        request.QueueNode = null;
        Count--;
        if (lane.Count == 0)
        {
            _turns.Remove(lane.Turn);
            _lanes.Remove(lane.Key);
            if (_spare.Count < SpareLanes)
            {
                _spare.Push(lane);
            }
        }
    }

    /// <summary>A request of the lane was served: once it has had its weight's worth of turns in a row, the next lane's turn comes.</summary>
    public void Served(Lane lane)
    {
        if (--lane.Credits <= 0)
        {
            PassOver(lane);
        }
    }

    /// <summary>The turn goes to the next lane (nothing happens to a lane emptied meanwhile).</summary>
    public void PassOver(Lane lane)
    {
        lane.Credits = lane.Weight;
        if (lane.Turn.List == _turns && _turns.Count > 1)
        {
            _turns.Remove(lane.Turn);
            _turns.AddLast(lane.Turn);
        }
    }

    /// <summary>The waiting requests <paramref name="match"/> is true for (none: null), lane by lane.</summary>
    public List<BrokerRequest>? Where(Func<BrokerRequest, bool> match)
    {
        List<BrokerRequest>? found = null;
        foreach (var lane in _turns)
        {
            foreach (var request in lane)
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
    internal sealed class Lane : LinkedList<BrokerRequest>
    {
        public Lane() => Turn = new LinkedListNode<Lane>(this);

        /// <summary>Whose requests it holds (a spare lane takes the next one's).</summary>
        public string Key { get; set; } = "";

        /// <summary>Turns in a row it gets (its principal's weight); <see cref="Credits"/>: those left in the current one.</summary>
        public int Weight { get; set; } = 1;

        public int Credits { get; set; } = 1;

        /// <summary>Its place among the turns: in the list while it has requests.</summary>
        public LinkedListNode<Lane> Turn { get; }
    }
}
