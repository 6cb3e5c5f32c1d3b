namespace Pigato.Routing;

/// <summary>
/// A table's look-up by identity that tries the entry it found last before the table: the messages of a batch, and most
/// messages in a row, name the same peer, and comparing its bytes costs less than widening and hashing them. The table
/// forgets the entry when it removes it.
/// </summary>
internal struct LastPeer<T>
    where T : class, IPeerEntry
{
    private T? _last;

    public bool TryGet(Dictionary<string, T> table, ReadOnlySpan<byte> identity, out T entry)
    {
        if (_last is { } last && identity.SequenceEqual(last.Identity))
        {
            entry = last;
            return true;
        }

        if (!PeerKey.TryGet(table, identity, out entry))
        {
            return false;
        }

        _last = entry;
        return true;
    }

    /// <summary>Remembers an entry the table just added (the next look-up is most likely for it).</summary>
    public void Remember(T entry) => _last = entry;

    /// <summary>Forgets whatever it remembers (its table was cleared).</summary>
    public void Clear() => _last = null;

    /// <summary>Forgets <paramref name="entry"/> if it is the one remembered (its table removed it).</summary>
    public void Forget(T entry)
    {
        if (ReferenceEquals(_last, entry))
        {
            _last = null;
        }
    }
}
