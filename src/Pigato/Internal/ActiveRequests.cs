using System.Runtime.InteropServices;

namespace Pigato.Internal;

/// <summary>
/// A worker's requests being handled, by client and rid (loop thread only). Rids are made by clients, so two clients may
/// send the same one; a request retried through another broker may arrive again before its first copy has ended.
/// </summary>
internal sealed class ActiveRequests
{
    private readonly Dictionary<Key, WorkerReply> _byKey = new(KeyComparer.Instance);

    public Dictionary<Key, WorkerReply>.ValueCollection Values => _byKey.Values;

    /// <summary>Adds a request; a later copy of the same request (client and rid) takes the place of the earlier one.</summary>
    public void Add(WorkerReply reply) => _byKey[new Key(reply.ClientId, reply.Rid)] = reply;

    /// <summary>The request a request heartbeat names.</summary>
    public bool TryGet(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, out WorkerReply reply) =>
        _byKey.TryGetValue(new Key(clientId.ToArray(), rid.ToArray()), out reply!);

    /// <summary>Removes <paramref name="reply"/>, unless a later copy of its request took its place.</summary>
    public void Remove(WorkerReply reply)
    {
        // One look-up in the usual case; a later copy taken out by mistake goes back.
        var key = new Key(reply.ClientId, reply.Rid);
        if (_byKey.Remove(key, out var current) && current != reply)
        {
            _byKey[key] = current;
        }
    }

    internal readonly record struct Key(byte[] ClientId, byte[] Rid);

    private sealed class KeyComparer : IEqualityComparer<Key>
    {
        public static readonly KeyComparer Instance = new();

        public bool Equals(Key x, Key y) => x.Rid.AsSpan().SequenceEqual(y.Rid) && x.ClientId.AsSpan().SequenceEqual(y.ClientId);

        /// <summary>
        /// The rid's bytes through the process's randomized string hash (two bytes to a char, an odd last byte mixed in): a
        /// client that picks its rids cannot aim them all at one bucket.
        /// </summary>
        public int GetHashCode(Key key)
        {
            var rid = key.Rid.AsSpan();
            var hash = string.GetHashCode(MemoryMarshal.Cast<byte, char>(rid));
            return rid.Length % 2 == 0 ? hash : HashCode.Combine(hash, rid[^1]);
        }
    }
}
