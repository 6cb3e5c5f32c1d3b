using NetMQ;

namespace Pigato.Internal.Links;

/// <summary>
/// The socket a client's or worker's <see cref="BrokerConnection"/> talks to one broker through, under one identity: a
/// ZeroMQ DEALER's behaviour (connects and reconnects by itself, keeps what is sent before it connects, speaks ZMTP to a
/// ROUTER), whichever code does it. Loop thread only; what it reports (<see cref="LinkEvents"/>) runs on the loop.
/// </summary>
internal interface IBrokerLink : IDisposable
{
    /// <summary>
    /// True when a frame's bytes are copied before a send returns (Pigato's own transport writes them into its connection's
    /// buffer): the caller may then send from a buffer it reuses. NetMQ keeps a frame's array until its I/O thread sent it.
    /// </summary>
    bool CopiesOnSend { get; }

    /// <summary>Starts the first frame of a message; false, sending nothing, when the link holds all it may (the caller queues it).</summary>
    bool TryStartMessage(ref Msg frame, bool more);

    /// <summary>Sends a further frame of a message that started: never refused.</summary>
    void SendMore(ref Msg frame, bool more);

    /// <summary>Receives one whole message that already arrived into <paramref name="frames"/>; false when none waits.</summary>
    bool TryReceive(ReceivedFrames frames);

    /// <summary>Hands what was sent to the kernel; what it cannot take yet waits for the next flush (<see cref="HasPending"/>).</summary>
    void Flush();

    /// <summary>True while sent bytes wait for the kernel to take them.</summary>
    bool HasPending { get; }

    /// <summary>Releases the socket without touching the loop, which is already gone (a failed start).</summary>
    void Abandon();
}

/// <summary>What a link reports to its connection, on the loop.</summary>
/// <param name="Received">Messages arrived: take them with <see cref="IBrokerLink.TryReceive"/>.</param>
/// <param name="Connected">The TCP connection is up (before any handshake), first or again.</param>
/// <param name="Disconnected">An established connection dropped (the link reconnects by itself under the same identity).</param>
internal sealed record LinkEvents(Action Received, Action Connected, Action Disconnected);
