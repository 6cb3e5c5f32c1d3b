namespace Pigato.Routing;

/// <summary>
/// What the broker core sends, as decisions: the socket side turns each into frames. A send that returns
/// false could not be delivered (the peer is gone or its queue is full).
/// </summary>
internal interface IBrokerOutput
{
    /// <summary>Hands a request to a worker: sent, queued (the worker is behind: busy), or undeliverable.</summary>
    SendResult SendRequest(BrokerWorker worker, BrokerRequest request);

    /// <summary>Bytes waiting in peers' outbound queues (part of the memory budget).</summary>
    long QueuedBytes { get; }

    /// <summary>Drops what waits for a peer (it was removed); how many messages were dropped.</summary>
    int DiscardQueued(ReadOnlySpan<byte> identity);

    /// <summary>Relays the reply being handled (partial or final) to the request's client (<see cref="BrokerRequest.ReplyTo"/>), unchanged.</summary>
    bool RelayReply(BrokerRequest request);

    /// <summary>A copy of the reply being handled (status, data, options), to keep for a client that has not re-attached yet.</summary>
    byte[][] CopyReply();

    /// <summary>Sends a kept final reply (see <see cref="CopyReply"/>) of <paramref name="request"/> to <paramref name="clientId"/>.</summary>
    bool SendKeptReply(ReadOnlySpan<byte> clientId, BrokerRequest request, byte[][] reply, bool compact);

    /// <summary>Ends a request (held, or refused on arrival) with the broker's own error reply carrying <paramref name="code"/>; in v2 framing when <paramref name="compact"/>.</summary>
    bool SendError(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, string code, bool compact);

    /// <summary>Answers a request for a service the broker serves itself (<c>$stats</c>) with a final reply carrying <paramref name="data"/> (JSON).</summary>
    bool SendReply(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, byte[] data, bool compact);

    /// <summary>Forwards a client's request heartbeat to the worker holding the request.</summary>
    bool ForwardRequestHeartbeat(BrokerWorker worker, BrokerRequest request);

    /// <summary>Tells a v2 worker (<see cref="BrokerWorker.Compact"/>) that the client of a request it holds cancelled it.</summary>
    bool ForwardCancel(BrokerWorker worker, BrokerRequest request);

    /// <summary>Answers a worker's READY (with <c>{"v":2}</c> when it gets v2 framing, <see cref="BrokerWorker.Compact"/>).</summary>
    bool SendReadyAnswer(BrokerWorker worker);

    /// <summary>Sends a heartbeat to a worker.</summary>
    bool SendWorkerHeartbeat(BrokerWorker worker);

    /// <summary>Answers a client's hello: <c>C, 4, hello, {"v":2}</c> when <paramref name="compact"/>, else <c>{}</c>.</summary>
    bool SendHelloAnswer(ReadOnlySpan<byte> clientId, bool compact);

    /// <summary>Answers a client's heartbeat.</summary>
    bool SendClientHeartbeat(ReadOnlySpan<byte> clientId);

    /// <summary>Tells a peer (registered or not) to register again.</summary>
    void SendDisconnect(ReadOnlySpan<byte> identity);

    /// <summary>Publishes the directory (one <c>$dir {json}</c> frame) on the internal channel.</summary>
    void PublishDirectory(byte[] frame);

    /// <summary>Reports bad input or an undeliverable message; the broker keeps running.</summary>
    void ReportError(string code, string message, string? peerId);
}
