using Pigato.Routing;

namespace Pigato.Internal;

/// <summary>
/// What became of what the broker sent a peer, found out after the core's call that sent it: the one way the lowest
/// layer reports upward. <see cref="SendResult.Sent"/>: its outbound queue drained; <see cref="SendResult.Queued"/>: a
/// batch went into its queue (its pipe is full); <see cref="SendResult.Overflow"/>: too slow (<paramref name="Messages"/>
/// dropped); <see cref="SendResult.Unreachable"/>: gone. <paramref name="Undelivered"/>: the requests a batch carried
/// when it could not be delivered, so that they go back to their queue as a v1 send's would.
/// </summary>
internal readonly record struct PeerOutcome(byte[] Identity, SendResult Result, int Messages, BrokerRequest[]? Undelivered = null);
