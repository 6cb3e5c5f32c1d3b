namespace Pigato.Internal;

/// <summary>
/// Gives memory back after a burst: when what the broker holds has fallen to a quarter of its peak (and the peak was
/// worth it), one aggressive, compacting collection returns the freed heap to the operating system. The GC would
/// otherwise keep a peak-sized heap committed for a long time after abusive traffic stops.
/// </summary>
internal sealed class MemoryTrim
{
    private const long WorthIt = 16L * 1024 * 1024;
    private long _peak;

    /// <summary>Called at each heartbeat tick with the bytes held now; true when it collected.</summary>
    public bool AfterTick(long held)
    {
        _peak = Math.Max(_peak, held);
        if (_peak < WorthIt || held > _peak / 4)
        {
            return false;
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        _peak = held;
        return true;
    }
}
