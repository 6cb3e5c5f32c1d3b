using Microsoft.Extensions.Logging;

namespace Pigato.Management;

/// <summary>The management endpoint's log lines (source-generated).</summary>
internal static partial class ManagementLog
{
    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Management endpoint on {Url}: dashboard /, /api/stats, /metrics, /healthz")]
    public static partial void Listening(ILogger logger, string url);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "The broker requires authentication: the management endpoint requires a token too. Open {Url}/?token={Token} or send 'Authorization: Bearer {Token}'")]
    public static partial void TokenMade(ILogger logger, string url, string token);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Sampling the broker failed: {Reason}")]
    public static partial void SampleFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Warning, Message = "Management request without a valid token from {Remote}: {Path} refused (401)")]
    public static partial void Unauthorized(ILogger logger, string? remote, string path);
}
