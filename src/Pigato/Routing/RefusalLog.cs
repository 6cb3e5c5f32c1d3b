using Microsoft.Extensions.Logging;
using Pigato.Internal;

namespace Pigato.Routing;

/// <summary>Logs refusals at most once a second per code, with how many were refused meanwhile: a flood cannot flood the log.</summary>
internal sealed class RefusalLog(ILogger logger, TimeProvider time)
{
    private readonly Dictionary<string, LogThrottle> _byCode = new(StringComparer.Ordinal);

    public void Refused(string code, string peerId, string detail)
    {
        if (!_byCode.TryGetValue(code, out var throttle))
        {
            _byCode[code] = throttle = new LogThrottle(time, perSecond: 1);
        }

        if (throttle.TryTake(out var suppressed))
        {
            Log.Refused(logger, code, peerId, detail, suppressed);
        }
    }
}
