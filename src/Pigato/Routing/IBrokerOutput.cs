using Pigato.Protocol;

namespace Pigato.Routing;

/// <summary>
/// What the broker core sends, as decisions: the socket side turns each into frames, in the framing it agreed with each
/// peer (the core never knows which). A send that returns false could not be delivered (the peer is gone or its queue
/// is full).
/// </summary>
internal interface IBrokerOutput
{
    /// <summary>Hands a request to a worker: sent, queued (the worker is behind: busy), or undeliverable.</summary>
    SendResult SendRequest(BrokerWorker worker, BrokerRequest request);

    /// <summary>Bytes waiting in peers' outbound queues (part of the memory budget).</summary>
    long QueuedBytes { get; }

    /// <summary>Bytes waiting in one peer's outbound queue (a client's share of the budget counts the replies it has not read).</summary>
    long QueuedBytesFor(ReadOnlySpan<byte> identity);

    /// <summary>The address a peer connected from, for log lines; null when the transport cannot tell.</summary>
    string? AddressOf(ReadOnlySpan<byte> identity);

    /// <summary>A peer is forgotten (a worker removed, a client gone silent): what waits for it is dropped, and the framing agreed with it.</summary>
    void ForgetPeer(ReadOnlySpan<byte> identity);

    /// <summary>
    /// Relays a worker's reply (partial or final) to the request's client (<see cref="BrokerRequest.ReplyTo"/>), unchanged:
    /// sent or queued; <see cref="SendResult.Overflow"/> when the client's outbound queue is full (it reads slower than
    /// the worker answers); <see cref="SendResult.Unreachable"/> when it is gone.
    /// </summary>
    SendResult RelayReply(BrokerRequest request, in MessageFields reply);

    /// <summary>A copy of a worker's reply (status, data, options), to keep for a client that has not re-attached yet.</summary>
    byte[][] CopyReply(in MessageFields reply);

    /// <summary>Sends a kept final reply (see <see cref="CopyReply"/>) of <paramref name="request"/> to <paramref name="clientId"/>.</summary>
    bool SendKeptReply(ReadOnlySpan<byte> clientId, BrokerRequest request, byte[][] reply);

    /// <summary>
    /// Ends a request (held, or refused on arrival) with the broker's own error reply carrying <paramref name="code"/>;
    /// <paramref name="pastTheBound"/>: queued even when the client's outbound queue is full (one message more, so that a
    /// client whose replies overflowed hears why its request ended).
    /// </summary>
    bool SendError(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, string code, bool pastTheBound = false);

    /// <summary>Answers a request for a service the broker serves itself (<c>$stats</c>, <c>$dir</c>) with a final reply carrying <paramref name="data"/> (JSON).</summary>
    bool SendReply(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, byte[] data);

    /// <summary>Forwards a client's request heartbeat to the worker holding the request.</summary>
    bool ForwardRequestHeartbeat(BrokerWorker worker, BrokerRequest request);

    /// <summary>Tells the worker holding a request that its client cancelled it; a worker that cannot be told (v1 framing: PIGATO for Node.js) is left alone.</summary>
    bool ForwardCancel(BrokerWorker worker, BrokerRequest request);

    /// <summary>Answers a worker's READY, agreeing on a framing from the highest it announced (<paramref name="version"/>; 0: v1 only).</summary>
    bool SendReadyAnswer(BrokerWorker worker, int version);

    /// <summary>Sends a heartbeat to a worker.</summary>
    bool SendWorkerHeartbeat(BrokerWorker worker);

    /// <summary>Answers a client's hello, agreeing on a framing from the highest it announced (<paramref name="version"/>; 0: v1 only).</summary>
    bool SendHelloAnswer(ReadOnlySpan<byte> clientId, int version);

    /// <summary>Answers a client's heartbeat.</summary>
    bool SendClientHeartbeat(ReadOnlySpan<byte> clientId);

    /// <summary>Tells a peer (registered or not) to register again.</summary>
    void SendDisconnect(ReadOnlySpan<byte> identity);

    /// <summary>Publishes the directory (one <c>$dir {json}</c> frame) on the internal channel.</summary>
    void PublishDirectory(byte[] frame);

    /// <summary>Reports bad input or an undeliverable message; the broker keeps running.</summary>
    void ReportError(string code, string message, string? peerId);
}
