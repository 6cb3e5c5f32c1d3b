using NetMQ;

namespace Pigato.Internal.Links;

/// <summary>
/// What carries the broker's connections: a ZeroMQ ROUTER's behaviour (messages in with their peer's identity first,
/// messages out routed by it, a peer gone or full told at once), whichever code does it. Loop thread only.
/// </summary>
internal interface IRouterLink : IDisposable
{
    /// <summary>The endpoint bound, its port resolved (<c>tcp://127.0.0.1:0</c> becomes the port the system gave).</summary>
    string Endpoint { get; }

    /// <summary>
    /// True when a frame's bytes are copied before a send returns (Pigato's own transport writes them into its connection's
    /// buffer): the caller may then send from a buffer it reuses. NetMQ keeps a frame's array until its I/O thread sent it.
    /// </summary>
    bool CopiesOnSend { get; }

    /// <summary>Starts a message to the peer named by <paramref name="identity"/>: taken, or refused because the peer is behind or gone (nothing sent).</summary>
    RouteResult TryStartMessage(ref Msg identity, bool more);

    /// <summary>Sends a further frame of a message that started: never refused.</summary>
    void SendMore(ref Msg frame, bool more);

    /// <summary>Receives one whole message (its peer's identity first) that already arrived, or that arrives within <paramref name="wait"/>.</summary>
    bool TryReceive(ReceivedFrames frames, TimeSpan wait = default);

    /// <summary>Hands what was sent to the kernel; what it cannot take yet waits (<see cref="HasPending"/>).</summary>
    void Flush();

    /// <summary>True while sent bytes wait for the kernel to take them.</summary>
    bool HasPending { get; }

    /// <summary>The address a peer connected from, when the transport knows it (for log lines), else null.</summary>
    string? AddressOf(ReadOnlySpan<byte> identity);
}

/// <summary>What became of the start of a message to a peer.</summary>
internal enum RouteResult
{
    /// <summary>Taken: the rest of the message follows.</summary>
    Started,

    /// <summary>The peer is behind (its pipe or buffer is full): nothing was sent.</summary>
    Full,

    /// <summary>No such peer is connected.</summary>
    Unreachable,
}
