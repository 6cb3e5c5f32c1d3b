namespace Pigato.Routing;

/// <summary>
/// Entries keyed by a peer's identity (<see cref="PeerKey"/>: one char per byte), looked up by the identity frame. A
/// look-up tries the entry found last before the dictionary: the messages of a batch, and most messages in a row, name
/// the same peer, and comparing its bytes costs less than widening and hashing them. Removing or clearing forgets it.
/// </summary>
internal sealed class PeerTable<T>
    where T : class, IPeerEntry
{
    private readonly Dictionary<string, T> _byKey = new(StringComparer.Ordinal);
    private T? _last;

    public int Count => _byKey.Count;

    public Dictionary<string, T>.ValueCollection Values => _byKey.Values;

    public bool TryGet(ReadOnlySpan<byte> identity, out T entry)
    {
        if (_last is { } last && identity.SequenceEqual(last.Identity))
        {
            entry = last;
            return true;
        }

        if (!PeerKey.TryGet(_byKey, identity, out entry))
        {
            return false;
        }

        _last = entry;
        return true;
    }

    /// <summary>Adds <paramref name="entry"/> under <paramref name="key"/> (<see cref="PeerKey.Of(ReadOnlySpan{byte})"/> of its identity): the next look-up is most likely for it.</summary>
    public void Add(string key, T entry)
    {
        _byKey.Add(key, entry);
        _last = entry;
    }

    /// <summary>Removes the entry under <paramref name="key"/>; false when there was none.</summary>
    public bool Remove(string key)
    {
        if (!_byKey.Remove(key, out var removed))
        {
            return false;
        }

        if (ReferenceEquals(_last, removed))
        {
            _last = null;
        }

        return true;
    }

    public void Clear()
    {
        _byKey.Clear();
        _last = null;
    }
}
