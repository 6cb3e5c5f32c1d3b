using Pigato.Protocol.Compact;
using Pigato.Routing;

namespace Pigato.Internal;

/// <summary>
/// The v2 messages one broker callback makes for each v2 peer, kept to leave together in one frame per peer
/// (a batch frame) at the end of the callback, or as soon as a peer's batch is full. Loop thread only.
/// </summary>
internal sealed class PeerBatches
{
    private const int MaxPooled = 64;

    private readonly PeerTable<PeerBatch> _byPeer = new();
    private readonly List<PeerBatch> _order = [];
    private readonly Stack<PeerBatch> _pool = new();

    /// <summary>True when nothing waits.</summary>
    public bool IsEmpty => _order.Count == 0;

    /// <summary>
    /// Adds a message for <paramref name="identity"/> (a <paramref name="request"/> to a worker, or a reply to a client's
    /// request: the batch then carries it; one <paramref name="pastTheBound"/> takes the batch with it); returns that
    /// peer's batch, taken, when it is full.
    /// </summary>
    public PeerBatch? Add(byte[] identity, in CompactDraft message, BrokerRequest? request = null, bool pastTheBound = false)
    {
        if (!_byPeer.TryGet(identity, out var batch))
        {
            batch = _pool.Count > 0 ? _pool.Pop() : new PeerBatch();
            batch.Identity = identity;
            _byPeer.Add(PeerKey.Of(identity), batch);
            _order.Add(batch);
        }

        if (request is not null && (batch.Requests.Count == 0 || batch.Requests[^1] != request))
        {
            batch.Requests.Add(request);
        }

        batch.PastTheBound |= pastTheBound;

        return batch.Add(message) ? Take(batch) : null;
    }

    /// <summary>Takes what waits for <paramref name="identity"/>, if anything.</summary>
    public bool TryTake(ReadOnlySpan<byte> identity, out PeerBatch batch)
    {
        if (_order.Count == 0 || !_byPeer.TryGet(identity, out batch!))
        {
            batch = null!;
            return false;
        }

        Take(batch);
        return true;
    }

    /// <summary>Takes every batch waiting, oldest first, into <paramref name="batches"/>.</summary>
    public void TakeAll(List<PeerBatch> batches)
    {
        batches.AddRange(_order);
        _order.Clear();
        _byPeer.Clear();
    }

    /// <summary>A batch that was sent (or dropped) goes back to the pool.</summary>
    public void Return(PeerBatch batch)
    {
        batch.Clear();
        if (_pool.Count < MaxPooled)
        {
            _pool.Push(batch);
        }
    }

    private PeerBatch Take(PeerBatch batch)
    {
        _byPeer.Remove(PeerKey.Of(batch.Identity));
        _order.Remove(batch);
        return batch;
    }
}

/// <summary>The messages waiting for one peer, and the requests among them (a batch that cannot be delivered names them).</summary>
internal sealed class PeerBatch : CompactBatch, IPeerEntry
{
    public byte[] Identity { get; set; } = [];

    /// <summary>The requests this batch carries to a worker, or answers to a client (a stream's run of partials once).</summary>
    public List<BrokerRequest> Requests { get; } = [];

    /// <summary>It carries a message that must reach the peer even when its queue is full (the error that ends a request).</summary>
    public bool PastTheBound { get; set; }

    public override void Clear()
    {
        base.Clear();
        Identity = [];
        Requests.Clear();
        PastTheBound = false;
    }
}
