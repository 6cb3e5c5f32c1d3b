using Microsoft.Extensions.Logging;
using Pigato.Internal;

namespace Pigato.Routing;

/// <summary>Logs refusals at most once a second per code, with how many were refused meanwhile: a flood cannot flood the log.</summary>
internal sealed class RefusalLog(ILogger logger, TimeProvider time)
{
    private readonly LogThrottles _throttles = new(time);

    public void Refused(string code, string peerId, string detail)
    {
        if (_throttles.TryTake(code, out var suppressed))
        {
            Log.Refused(logger, code, peerId, detail, suppressed);
        }
    }
}
