using System.Collections.Concurrent;

namespace Pigato.Internal;

/// <summary>
/// A client's pending requests by rid frame, shared by callers' threads and the loop, with a count that costs nothing to
/// read (a <see cref="ConcurrentDictionary{TKey,TValue}"/>'s own Count takes every lock: a quarter of the client's CPU
/// when it was read per request). A reply's rid is looked up as the bytes it arrived in.
/// </summary>
internal sealed class PendingTable
{
    private readonly ConcurrentDictionary<byte[], PendingRequest> _byRid;
    private readonly ConcurrentDictionary<byte[], PendingRequest>.AlternateLookup<ReadOnlySpan<byte>> _byRidBytes;
    private int _count;

    public PendingTable()
    {
        _byRid = new ConcurrentDictionary<byte[], PendingRequest>(RidComparer.Instance);
        _byRidBytes = _byRid.GetAlternateLookup<ReadOnlySpan<byte>>();
    }

    public int Count => Volatile.Read(ref _count);

    /// <summary>A snapshot of the requests (for sweeps on the loop, not per request).</summary>
    public ICollection<PendingRequest> Values => _byRid.Values;

    /// <summary>Finds a request by the rid frame of a reply, without copying it.</summary>
    public bool TryGetValue(ReadOnlySpan<byte> rid, out PendingRequest request) => _byRidBytes.TryGetValue(rid, out request!);

    /// <summary>Adds a request under its (new) rid.</summary>
    public void Add(PendingRequest request)
    {
        if (_byRid.TryAdd(request.RidFrame, request))
        {
            Interlocked.Increment(ref _count);
        }
        else
        {
            _byRid[request.RidFrame] = request;
        }
    }

    /// <summary>Removes the request under <paramref name="rid"/>, if it is still there.</summary>
    public bool TryRemove(byte[] rid)
    {
        if (!_byRid.TryRemove(rid, out _))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>
    /// Rids by their bytes, with the process's randomized hash: the stored rids are this client's own random ones, and a
    /// reply names one of them or none.
    /// </summary>
    private sealed class RidComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
    {
        public static readonly RidComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] rid) => GetHashCode(rid.AsSpan());

        public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

        public int GetHashCode(ReadOnlySpan<byte> alternate)
        {
            var hash = default(HashCode);
            hash.AddBytes(alternate);
            return hash.ToHashCode();
        }

        public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();
    }
}
