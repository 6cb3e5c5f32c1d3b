using System.Collections.Concurrent;

namespace Pigato.Internal;

/// <summary>
/// A client's pending requests by rid, shared by callers' threads and the loop, with a count that costs nothing to
/// read (a <see cref="ConcurrentDictionary{TKey,TValue}"/>'s own Count takes every lock: a quarter of the client's CPU
/// when it was read per request).
/// </summary>
internal sealed class PendingTable
{
    private readonly ConcurrentDictionary<string, PendingRequest> _byRid = new(StringComparer.Ordinal);
    private int _count;

    public int Count => Volatile.Read(ref _count);

    /// <summary>A snapshot of the requests (for sweeps on the loop, not per request).</summary>
    public ICollection<PendingRequest> Values => _byRid.Values;

    /// <summary>Finds a request by its rid frame (UTF-8) without making a string of it (a reply's rid is read per reply).</summary>
    public bool TryGetValue(ReadOnlySpan<byte> rid, out PendingRequest request) => Utf8.TryGetValue(_byRid, rid, out request);

    /// <summary>Adds a request under its (new) rid.</summary>
    public void Add(PendingRequest request)
    {
        if (_byRid.TryAdd(request.Rid, request))
        {
            Interlocked.Increment(ref _count);
        }
        else
        {
            _byRid[request.Rid] = request;
        }
    }

    public bool TryRemove(string rid, out PendingRequest? request)
    {
        if (!_byRid.TryRemove(rid, out request))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        return true;
    }
}
