using Microsoft.Extensions.Logging;
using Pigato.Internal;

namespace Pigato.Routing;

/// <summary>Logs refusals at most once a second per code, with how many were refused meanwhile: a flood cannot flood the log.</summary>
internal sealed class RefusalLog(ILogger logger, TimeProvider time)
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(1);
    private readonly Dictionary<string, (long LoggedAt, int Suppressed)> _byCode = new(StringComparer.Ordinal);

    public void Refused(string code, string peerId, string detail)
    {
        var now = time.GetTimestamp();
        if (_byCode.TryGetValue(code, out var last) && time.GetElapsedTime(last.LoggedAt, now) < Period)
        {
            _byCode[code] = (last.LoggedAt, last.Suppressed + 1);
            return;
        }

        _byCode[code] = (now, 0);
        Log.Refused(logger, code, peerId, detail, last.Suppressed);
    }
}
