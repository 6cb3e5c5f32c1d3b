namespace Pigato.Routing;

/// <summary>
/// At most a number of log lines a second for one kind of event; the rest are counted, so that a flood (of refusals,
/// of workers joining) costs a summary line instead of one line each: logging must not become the bottleneck.
/// </summary>
internal sealed class LogThrottle(TimeProvider time, int perSecond)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);
    private long _windowStart = long.MinValue;
    private int _taken;
    private int _suppressed;

    /// <summary>True when this event may be logged; <paramref name="suppressed"/> says how many were not logged before it.</summary>
    public bool TryTake(out int suppressed)
    {
        var now = time.GetTimestamp();
        suppressed = 0;
        if (_windowStart == long.MinValue || time.GetElapsedTime(_windowStart, now) >= Window)
        {
            _windowStart = now;
            _taken = 0;
            suppressed = TakeSuppressed();
        }

        if (_taken < perSecond)
        {
            _taken++;
            return true;
        }

        _suppressed++;
        return false;
    }

    /// <summary>How many events were not logged since the last call (for a summary line).</summary>
    public int TakeSuppressed()
    {
        var suppressed = _suppressed;
        _suppressed = 0;
        return suppressed;
    }
}
