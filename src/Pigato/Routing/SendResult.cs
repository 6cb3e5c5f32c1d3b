namespace Pigato.Routing;

/// <summary>What became of a message the broker sent to a peer.</summary>
internal enum SendResult
{
    /// <summary>Handed to the peer's pipe.</summary>
    Sent,

    /// <summary>The peer's pipe was full: it waits in the peer's outbound queue and goes out as the pipe frees.</summary>
    Queued,

    /// <summary>An advisory message (a heartbeat) the peer could not take now: skipped.</summary>
    Skipped,

    /// <summary>The peer's outbound queue is full: the message was not sent (the peer is a slow consumer).</summary>
    Overflow,

    /// <summary>The peer is gone.</summary>
    Unreachable,
}
