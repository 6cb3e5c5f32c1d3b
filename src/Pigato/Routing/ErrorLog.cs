using Microsoft.Extensions.Logging;
using Pigato.Internal;

namespace Pigato.Routing;

/// <summary>
/// Logs a broker's errors at most once a second per code, saying how many of that code were not logged since: a peer that
/// keeps failing (a client that never reads its replies, a worker that vanished) costs a line a second, not a line per
/// message. Every error still reaches <see cref="Broker.Error"/> and the metrics. Any thread.
/// </summary>
internal sealed class ErrorLog(ILogger logger, TimeProvider time)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LogThrottle> _byCode = new(StringComparer.Ordinal);

    public void Report(string code, string? peerId, string message, Exception? exception)
    {
        int suppressed;
        lock (_gate)
        {
            if (!_byCode.TryGetValue(code, out var throttle))
            {
                _byCode[code] = throttle = new LogThrottle(time, perSecond: 1);
            }

            if (!throttle.TryTake(out suppressed))
            {
                return;
            }
        }

        Log.PeerError(logger, code, peerId, suppressed == 0 ? message : $"{message} ({suppressed} more with this code not logged in the last second)", exception);
    }
}
