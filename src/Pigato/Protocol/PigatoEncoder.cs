namespace Pigato.Protocol;

/// <summary>Writes every PIGATO message as the frames of PROTOCOL.md, one method per table row.</summary>
/// <remarks>
/// Messages are written as a DEALER sends them. A broker writes the peer identity frame first
/// (with <c>more: true</c>) and then the same frames.
/// </remarks>
internal static class PigatoEncoder
{
    /// <summary>Client → broker request: <c>C, 2, service, rid, data, opts</c>.</summary>
    public static void ClientRequest(IFrameWriter w, ReadOnlyMemory<byte> service, ReadOnlyMemory<byte> rid, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> options)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Client, MessageType.Request);
        w.Write(service, true);
        w.Write(rid, true);
        w.Write(data, true);
        w.Write(options, false);
    }

    /// <summary>Client ↔ broker heartbeat: <c>C, 4</c>.</summary>
    public static void ClientHeartbeat(IFrameWriter w) => Bare(w, PigatoFrames.Client, MessageType.Heartbeat);

    /// <summary>Client → broker request heartbeat: <c>C, 4, request, rid</c>.</summary>
    public static void ClientRequestHeartbeat(IFrameWriter w, ReadOnlyMemory<byte> rid)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Client, MessageType.Heartbeat);
        w.Write(PigatoFrames.RequestHeartbeatTag, true);
        w.Write(rid, false);
    }

    /// <summary>Client → broker cancellation (.NET extension, only on a connection that agreed on v2): <c>C, 4, cancel, rid</c>.</summary>
    public static void ClientCancel(IFrameWriter w, ReadOnlyMemory<byte> rid)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Client, MessageType.Heartbeat);
        w.Write(PigatoFrames.CancelTag, true);
        w.Write(rid, false);
    }

    /// <summary>
    /// Client → broker hello, and the broker's answer (.NET extension, docs/PROTOCOL-V2.md): <c>C, 4, hello, JSON</c>, the
    /// JSON carrying the framing spoken (<c>"v":2</c>) and a client's credential. A Node.js broker takes it for a heartbeat.
    /// </summary>
    public static void Hello(IFrameWriter w, ReadOnlyMemory<byte> json)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Client, MessageType.Heartbeat);
        w.Write(PigatoFrames.HelloTag, true);
        w.Write(json, false);
    }

    /// <summary>Broker → client partial or final reply: <c>C, 6|3, empty, rid, status, data, opts</c>.</summary>
    public static void ClientReply(IFrameWriter w, bool final, ReadOnlyMemory<byte> rid, ReadOnlyMemory<byte> status, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> options)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Client, final ? MessageType.Reply : MessageType.ReplyPartial);
        w.Write(ReadOnlyMemory<byte>.Empty, true);
        w.Write(rid, true);
        w.Write(status, true);
        w.Write(data, true);
        w.Write(options, false);
    }

    /// <summary>Worker → broker registration: <c>W, 1, service</c>, plus <c>JSON({"concurrency":n})</c> when <paramref name="status"/> is given.</summary>
    /// <remarks>
    /// The status frame is a Pigato for .NET extension so that the broker knows the worker's limit before its
    /// first heartbeat; the Node.js broker reads frames by position and ignores it.
    /// </remarks>
    public static void WorkerReady(IFrameWriter w, ReadOnlyMemory<byte> service, ReadOnlyMemory<byte> status = default)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Worker, MessageType.Ready);
        w.Write(service, !status.IsEmpty);
        if (!status.IsEmpty)
        {
            w.Write(status, false);
        }
    }

    /// <summary>Broker → worker registration answer: <c>W, 1</c>, plus <c>{"v":2}</c> when the worker gets v2 framing (.NET extension).</summary>
    public static void WorkerReadyAnswer(IFrameWriter w, bool compact)
    {
        if (!compact)
        {
            Bare(w, PigatoFrames.Worker, MessageType.Ready);
            return;
        }

        Head(w, PigatoFrames.Worker, MessageType.Ready);
        w.Write(PigatoFrames.CompactVersion, false);
    }

    /// <summary>Worker → broker heartbeat: <c>W, 4, empty, opts</c> (opts = <c>{"concurrency":n}</c>).</summary>
    public static void WorkerHeartbeat(IFrameWriter w, ReadOnlyMemory<byte> options)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Worker, MessageType.Heartbeat);
        w.Write(ReadOnlyMemory<byte>.Empty, true);
        w.Write(options, false);
    }

    /// <summary>Broker → worker heartbeat: <c>W, 4</c>.</summary>
    public static void BrokerHeartbeat(IFrameWriter w) => Bare(w, PigatoFrames.Worker, MessageType.Heartbeat);

    /// <summary>Either way disconnect: <c>W, 5</c>.</summary>
    public static void WorkerDisconnect(IFrameWriter w) => Bare(w, PigatoFrames.Worker, MessageType.Disconnect);

    /// <summary>Broker → worker request: <c>W, 2, clientId, service, empty, rid, data, opts</c>.</summary>
    public static void WorkerRequest(IFrameWriter w, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> service, ReadOnlyMemory<byte> rid, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> options)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Worker, MessageType.Request);
        w.Write(clientId, true);
        w.Write(service, true);
        w.Write(ReadOnlyMemory<byte>.Empty, true);
        w.Write(rid, true);
        w.Write(data, true);
        w.Write(options, false);
    }

    /// <summary>Broker → worker request heartbeat: <c>W, 4, clientId, empty, rid</c>.</summary>
    public static void WorkerRequestHeartbeat(IFrameWriter w, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> rid)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Worker, MessageType.Heartbeat);
        w.Write(clientId, true);
        w.Write(ReadOnlyMemory<byte>.Empty, true);
        w.Write(rid, false);
    }

    /// <summary>Broker → worker cancellation (.NET extension, only to a worker that agreed on v2): <c>W, 4, clientId, cancel, rid</c>.</summary>
    public static void WorkerCancel(IFrameWriter w, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> rid)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Worker, MessageType.Heartbeat);
        w.Write(clientId, true);
        w.Write(PigatoFrames.CancelTag, true);
        w.Write(rid, false);
    }

    /// <summary>Worker → broker partial (<c>6</c>) or final (<c>3</c>) reply: <c>W, type, clientId, empty, rid, status, data, opts</c>.</summary>
    public static void WorkerReply(IFrameWriter w, bool final, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> rid, ReadOnlyMemory<byte> status, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> options)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Worker, final ? MessageType.Reply : MessageType.ReplyPartial);
        w.Write(clientId, true);
        w.Write(ReadOnlyMemory<byte>.Empty, true);
        w.Write(rid, true);
        w.Write(status, true);
        w.Write(data, true);
        w.Write(options, false);
    }

    /// <summary>Worker → broker reject: <c>W, 7, clientId, empty, rid, 0, reason</c>.</summary>
    public static void WorkerReject(IFrameWriter w, ReadOnlyMemory<byte> clientId, ReadOnlyMemory<byte> rid, ReadOnlyMemory<byte> reason)
    {
        ArgumentNullException.ThrowIfNull(w);
        Head(w, PigatoFrames.Worker, MessageType.ReplyReject);
        w.Write(clientId, true);
        w.Write(ReadOnlyMemory<byte>.Empty, true);
        w.Write(rid, true);
        w.Write(PigatoFrames.StatusOk, true);
        w.Write(reason, false);
    }

    private static void Head(IFrameWriter w, ReadOnlyMemory<byte> side, MessageType type)
    {
        w.Write(side, true);
        w.Write(PigatoFrames.TypeFrame(type), true);
    }

    private static void Bare(IFrameWriter w, ReadOnlyMemory<byte> side, MessageType type)
    {
        ArgumentNullException.ThrowIfNull(w);
        w.Write(side, true);
        w.Write(PigatoFrames.TypeFrame(type), false);
    }
}
