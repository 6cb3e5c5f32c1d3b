namespace Pigato.Routing;

/// <summary>One <see cref="LogThrottle"/> of one line a second per code, for logs whose lines are keyed by an error code. Any thread.</summary>
internal sealed class LogThrottles(TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LogThrottle> _byCode = new(StringComparer.Ordinal);

    /// <summary>True when a line of <paramref name="code"/> may be logged now; <paramref name="suppressed"/> says how many were not logged before it.</summary>
    public bool TryTake(string code, out int suppressed)
    {
        lock (_gate)
        {
            if (!_byCode.TryGetValue(code, out var throttle))
            {
                _byCode[code] = throttle = new LogThrottle(time, perSecond: 1);
            }

            return throttle.TryTake(out suppressed);
        }
    }
}
