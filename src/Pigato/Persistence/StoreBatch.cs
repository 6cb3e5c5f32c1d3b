namespace Pigato.Persistence;

/// <summary>
/// Changes to the store not yet written, by rid: a request stored and removed before it was written cancels out
/// (a request answered within one write interval never reaches the disk, as RabbitMQ does for messages acknowledged
/// before they are persisted); a removal followed by a new request of the same rid is written as that request.
/// </summary>
public sealed class StoreBatch
{
    /// <summary>Made by the broker only.</summary>
    internal StoreBatch()
    {
    }

    private readonly Dictionary<string, Change> _changes = new(StringComparer.Ordinal);

    /// <summary>True when there is nothing to write.</summary>
    public bool IsEmpty => _changes.Count == 0;

    /// <summary>How many rids change.</summary>
    public int Count => _changes.Count;

    /// <summary>The requests to write (insert or replace).</summary>
    public IEnumerable<StoredRequest> Upserts => _changes.Values.Where(c => c.Request is not null).Select(c => c.Request!);

    /// <summary>The rids to delete (and not written again in this batch).</summary>
    public IEnumerable<byte[]> Deletes => _changes.Values.Where(c => c.Request is null).Select(c => c.Rid);

    /// <summary>True when the batch stores <paramref name="key"/> and nothing of it was written before (removing it cancels out).</summary>
    internal bool StoresNew(string key) => _changes.TryGetValue(key, out var change) && change.Request is not null && !change.DeletesFirst;

    internal void Store(string key, StoredRequest request)
    {
        // Written after a removal still to be written: the upsert replaces the old row, so the removal is no longer needed.
        _changes[key] = new Change(request.Rid, request, DeletesFirst: _changes.TryGetValue(key, out var old) && (old.Request is null || old.DeletesFirst));
    }

    /// <summary>
    /// A request's record changed: written again. One never written yet stays cancellable by its removal; one that may be
    /// on disk is marked so, so that its removal is written (and its reply waits for it).
    /// </summary>
    internal void Update(string key, StoredRequest request) =>
        _changes[key] = new Change(request.Rid, request, DeletesFirst: !StoresNew(key));

    internal void Remove(string key, byte[] rid)
    {
        if (_changes.TryGetValue(key, out var old) && old.Request is not null && !old.DeletesFirst)
        {
            // Stored and removed before anything was written: nothing to write.
            _changes.Remove(key);
            return;
        }

        _changes[key] = new Change(rid, null, DeletesFirst: false);
    }

    /// <summary>Applies <paramref name="later"/>'s changes after this batch's, and empties it.</summary>
    internal void Absorb(StoreBatch later)
    {
        foreach (var (key, change) in later._changes)
        {
            if (change.Request is { } request)
            {
                if (change.DeletesFirst)
                {
                    Remove(key, change.Rid);
                }

                Store(key, request);
            }
            else
            {
                Remove(key, change.Rid);
            }
        }

        later._changes.Clear();
    }

    private readonly record struct Change(byte[] Rid, StoredRequest? Request, bool DeletesFirst);
}
