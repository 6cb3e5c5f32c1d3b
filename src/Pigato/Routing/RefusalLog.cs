using Microsoft.Extensions.Logging;
using Pigato.Internal;

namespace Pigato.Routing;

/// <summary>
/// Logs refusals at most once a second per code, with how many were refused meanwhile (a flood cannot flood the log),
/// naming the peer and the address it connected from (<paramref name="addressOf"/>: null when the transport cannot tell).
/// </summary>
internal sealed class RefusalLog(ILogger logger, TimeProvider time, Func<string, string?> addressOf)
{
    private readonly LogThrottles _throttles = new(time);

    public void Refused(string code, string peerId, string detail)
    {
        if (_throttles.TryTake(code, out var suppressed))
        {
            Log.Refused(logger, code, peerId, addressOf(peerId) ?? "an address the transport does not give", detail, suppressed);
        }
    }
}
