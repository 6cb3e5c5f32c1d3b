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
    private readonly LogThrottles _throttles = new(time);

    public void Report(string code, string? peerId, string message, Exception? exception)
    {
        if (_throttles.TryTake(code, out var suppressed))
        {
            Log.PeerError(logger, code, peerId, suppressed == 0 ? message : $"{message} ({suppressed} more with this code not logged in the last second)", exception);
        }
    }
}
