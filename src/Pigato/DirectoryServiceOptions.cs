using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Pigato;

/// <summary>Settings of a <see cref="DirectoryService"/>. Immutable: change them with <c>with</c>.</summary>
public sealed record DirectoryServiceOptions
{
    /// <summary>The defaults.</summary>
    public static readonly DirectoryServiceOptions Default = new();

    /// <summary>The broker to register with. Default <c>tcp://127.0.0.1:55555</c>.</summary>
    public string Endpoint { get; init; } = "tcp://127.0.0.1:55555";

    /// <summary>The broker's internal PUB channel. Default <c>tcp://127.0.0.1:55550</c>.</summary>
    public string InternalEndpoint { get; init; } = "tcp://127.0.0.1:55550";

    /// <summary>Heartbeat period of the service's worker. Default 2.5 s.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromMilliseconds(2500);

    /// <summary>How long a request waits for the first directory snapshot after a start. Default 5 s.</summary>
    public TimeSpan SnapshotWait { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The brokers' CURVE public key (Z85): the directory service then encrypts its connections and talks only to a broker holding the matching secret key. Null (the default): plain text.</summary>
    public string? CurveServerKey { get; init; }

    /// <summary>The credential the directory presents to a broker that requires authentication. Null: anonymous.</summary>
    public Security.PigatoCredential? Credential { get; init; }

    /// <summary>Where log lines go. Default: nowhere.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
