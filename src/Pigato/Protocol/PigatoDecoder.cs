namespace Pigato.Protocol;

/// <summary>What a received message is, once its header, type and length have been checked.</summary>
internal enum PigatoMessageKind
{
    /// <summary>Not a valid message for the receiving side; see <see cref="DecodedMessage.Error"/>.</summary>
    Invalid,

    /// <summary>Broker side: a client's request.</summary>
    ClientRequest,

    /// <summary>Broker side: a client's heartbeat.</summary>
    ClientHeartbeat,

    /// <summary>Broker side: a client's heartbeat for one request.</summary>
    ClientRequestHeartbeat,

    /// <summary>Broker side: a client no longer wants one of its requests (<c>C, 4, cancel, rid</c>; .NET clients on a v2 connection).</summary>
    ClientCancel,

    /// <summary>Broker side: a worker's heartbeat sent from a client socket (<c>C, 4, worker, workerId</c>; PIGATO-RUBY's worker does).</summary>
    ClientWorkerHeartbeat,

    /// <summary>Broker side: a .NET client's hello (<c>C, 4, hello, JSON</c>): the framing it speaks, its credential.</summary>
    ClientHello,

    /// <summary>Broker side: a worker's registration.</summary>
    WorkerReady,

    /// <summary>Broker side: a worker's heartbeat.</summary>
    WorkerHeartbeat,

    /// <summary>Broker side: a worker's partial reply.</summary>
    WorkerPartialReply,

    /// <summary>Broker side: a worker's final reply.</summary>
    WorkerFinalReply,

    /// <summary>Broker side: a worker's rejection of a request.</summary>
    WorkerReject,

    /// <summary>Broker side: a worker's disconnect.</summary>
    WorkerDisconnect,

    /// <summary>Client side: the broker's heartbeat answer.</summary>
    Heartbeat,

    /// <summary>Client side: the broker's answer to the hello.</summary>
    HelloAnswer,

    /// <summary>Client side: a partial reply.</summary>
    PartialReply,

    /// <summary>Client side: a final reply.</summary>
    FinalReply,

    /// <summary>Worker side: the broker's registration answer.</summary>
    ReadyAnswer,

    /// <summary>Worker side: a request.</summary>
    Request,

    /// <summary>Worker side: a request heartbeat forwarded from the client.</summary>
    RequestHeartbeat,

    /// <summary>Worker side: the request's client cancelled it (<c>W, 4, clientId, cancel, rid</c>; to v2 workers only).</summary>
    RequestCancel,

    /// <summary>Worker side: the broker's disconnect.</summary>
    Disconnect,
}

/// <summary>The outcome of decoding a message: its kind, or an error code from <see cref="PigatoErrorCodes"/>.</summary>
/// <param name="Kind">The kind of message.</param>
/// <param name="Error">The error code when <paramref name="Kind"/> is <see cref="PigatoMessageKind.Invalid"/>.</param>
internal readonly record struct DecodedMessage(PigatoMessageKind Kind, string? Error)
{
    /// <summary>True when the message can be handled.</summary>
    public bool IsValid => Kind != PigatoMessageKind.Invalid;

    internal static DecodedMessage Of(PigatoMessageKind kind) => new(kind, null);

    internal static DecodedMessage Fail(string error) => new(PigatoMessageKind.Invalid, error);
}

/// <summary>Checks the header, type and length of received messages for each side of the protocol.</summary>
/// <remarks>
/// Frames are indexed as a DEALER sees them (see <see cref="PigatoFrames"/>). Data and options frames
/// may be missing: they are optional for every message that carries them.
/// </remarks>
internal static class PigatoDecoder
{
    /// <summary>Decodes a message received by a broker (the identity frame already removed).</summary>
    public static DecodedMessage ForBroker<TFrames>(TFrames frames)
        where TFrames : IFrameSource, allows ref struct
    {
        if (frames.Count < 2)
        {
            return DecodedMessage.Fail(PigatoErrorCodes.MessageLength);
        }

        var header = frames[PigatoFrames.Header];
        if (!PigatoFrames.TryParseType(frames[PigatoFrames.Type], out var type))
        {
            return IsHeader(header) ? DecodedMessage.Fail(PigatoErrorCodes.MessageType) : DecodedMessage.Fail(PigatoErrorCodes.MessageHeader);
        }

        if (header.SequenceEqual(PigatoFrames.Client.Span))
        {
            return type switch
            {
                MessageType.Request => Need(frames, PigatoFrames.RequestRid + 1, PigatoMessageKind.ClientRequest),
                MessageType.Heartbeat when frames.Count == 2 => DecodedMessage.Of(PigatoMessageKind.ClientHeartbeat),
                MessageType.Heartbeat when frames.Count > PigatoFrames.ClientRequestHeartbeatRid
                    && frames[2].SequenceEqual(PigatoFrames.RequestHeartbeatTag.Span) => DecodedMessage.Of(PigatoMessageKind.ClientRequestHeartbeat),
                MessageType.Heartbeat when frames.Count == PigatoFrames.ClientRequestHeartbeatRid + 1
                    && frames[2].SequenceEqual(PigatoFrames.CancelTag.Span) => DecodedMessage.Of(PigatoMessageKind.ClientCancel),
                MessageType.Heartbeat when frames.Count == PigatoFrames.ClientWorkerHeartbeatId + 1
                    && frames[2].SequenceEqual(PigatoFrames.WorkerHeartbeatTag.Span) => DecodedMessage.Of(PigatoMessageKind.ClientWorkerHeartbeat),
                MessageType.Heartbeat when frames.Count == 4
                    && frames[2].SequenceEqual(PigatoFrames.HelloTag.Span) => DecodedMessage.Of(PigatoMessageKind.ClientHello),
                MessageType.Heartbeat => DecodedMessage.Fail(PigatoErrorCodes.MessageLength),
                _ => DecodedMessage.Fail(PigatoErrorCodes.MessageType),
            };
        }

        if (header.SequenceEqual(PigatoFrames.Worker.Span))
        {
            return type switch
            {
                MessageType.Ready => Need(frames, PigatoFrames.ReadyService + 1, PigatoMessageKind.WorkerReady),
                MessageType.Heartbeat => DecodedMessage.Of(PigatoMessageKind.WorkerHeartbeat),
                MessageType.Reply => Need(frames, PigatoFrames.WorkerReplyStatus + 1, PigatoMessageKind.WorkerFinalReply),
                MessageType.ReplyPartial => Need(frames, PigatoFrames.WorkerReplyStatus + 1, PigatoMessageKind.WorkerPartialReply),
                MessageType.ReplyReject => Need(frames, PigatoFrames.WorkerReplyRid + 1, PigatoMessageKind.WorkerReject),
                MessageType.Disconnect => DecodedMessage.Of(PigatoMessageKind.WorkerDisconnect),
                _ => DecodedMessage.Fail(PigatoErrorCodes.MessageType),
            };
        }

        return DecodedMessage.Fail(PigatoErrorCodes.MessageHeader);
    }

    /// <summary>A v1 message received by a broker, its fields by name: what <see cref="Compact.CompactCodec.ForBroker"/> gives for a v2 one.</summary>
    public static MessageFields FieldsForBroker<TFrames>(TFrames frames)
        where TFrames : IFrameSource, allows ref struct
    {
        var decoded = ForBroker(frames);
        return decoded.Kind switch
        {
            PigatoMessageKind.ClientRequest => new()
            {
                Kind = decoded.Kind,
                Service = frames[PigatoFrames.RequestService],
                Rid = frames[PigatoFrames.RequestRid],
                Data = Optional(frames, PigatoFrames.RequestData),
                Options = Optional(frames, PigatoFrames.RequestOptions),
            },
            PigatoMessageKind.ClientRequestHeartbeat or PigatoMessageKind.ClientCancel => new() { Kind = decoded.Kind, Rid = frames[PigatoFrames.ClientRequestHeartbeatRid] },
            PigatoMessageKind.ClientWorkerHeartbeat => new() { Kind = decoded.Kind, WorkerId = frames[PigatoFrames.ClientWorkerHeartbeatId] },
            PigatoMessageKind.ClientHello => new() { Kind = decoded.Kind, Data = frames[PigatoFrames.HelloJson] },
            PigatoMessageKind.WorkerReady => new() { Kind = decoded.Kind, Service = frames[PigatoFrames.ReadyService], Options = Optional(frames, PigatoFrames.ReadyService + 1) },
            PigatoMessageKind.WorkerHeartbeat => new() { Kind = decoded.Kind, Options = Optional(frames, PigatoFrames.WorkerHeartbeatOptions) },
            PigatoMessageKind.WorkerPartialReply or PigatoMessageKind.WorkerFinalReply or PigatoMessageKind.WorkerReject => new()
            {
                Kind = decoded.Kind,
                ClientId = frames[PigatoFrames.WorkerReplyClient],
                Rid = frames[PigatoFrames.WorkerReplyRid],
                Status = decoded.Kind == PigatoMessageKind.WorkerReject ? default : Optional(frames, PigatoFrames.WorkerReplyStatus),
                Data = Optional(frames, PigatoFrames.WorkerReplyStatus + 1),
                Options = Optional(frames, PigatoFrames.WorkerReplyOptions),
            },
            _ => new() { Kind = decoded.Kind, Error = decoded.Error },
        };
    }

    /// <summary>A v1 message received by a client, its fields by name: what <see cref="Compact.CompactCodec.ForClient"/> gives for a v2 one.</summary>
    public static MessageFields FieldsForClient<TFrames>(TFrames frames)
        where TFrames : IFrameSource, allows ref struct
    {
        var decoded = ForClient(frames);
        return decoded.Kind switch
        {
            PigatoMessageKind.FinalReply or PigatoMessageKind.PartialReply => new()
            {
                Kind = decoded.Kind,
                Rid = frames[PigatoFrames.ClientReplyRid],
                Status = frames[PigatoFrames.ClientReplyStatus],
                Data = Optional(frames, PigatoFrames.ClientReplyData),
                Options = Optional(frames, PigatoFrames.ClientReplyOptions),
            },
            PigatoMessageKind.HelloAnswer => new() { Kind = decoded.Kind, Data = frames[PigatoFrames.HelloJson] },
            _ => new() { Kind = decoded.Kind, Error = decoded.Error },
        };
    }

    /// <summary>A v1 message received by a worker, its fields by name: what <see cref="Compact.CompactCodec.ForWorker"/> gives for a v2 one.</summary>
    public static MessageFields FieldsForWorker<TFrames>(TFrames frames)
        where TFrames : IFrameSource, allows ref struct
    {
        var decoded = ForWorker(frames);
        return decoded.Kind switch
        {
            PigatoMessageKind.Request => new()
            {
                Kind = decoded.Kind,
                ClientId = frames[PigatoFrames.WorkerRequestClient],
                Service = frames[PigatoFrames.WorkerRequestService],
                Rid = frames[PigatoFrames.WorkerRequestRid],
                Data = Optional(frames, PigatoFrames.WorkerRequestData),
                Options = Optional(frames, PigatoFrames.WorkerRequestOptions),
            },
            PigatoMessageKind.RequestHeartbeat or PigatoMessageKind.RequestCancel => new()
            {
                Kind = decoded.Kind,
                ClientId = frames[PigatoFrames.WorkerRequestHeartbeatClient],
                Rid = frames[PigatoFrames.WorkerRequestHeartbeatRid],
            },
            PigatoMessageKind.ReadyAnswer => new() { Kind = decoded.Kind, Data = Optional(frames, PigatoFrames.ReadyAnswerJson) },
            _ => new() { Kind = decoded.Kind, Error = decoded.Error },
        };
    }

    /// <summary>A frame that may be missing: empty then.</summary>
    private static ReadOnlySpan<byte> Optional<TFrames>(TFrames frames, int index)
        where TFrames : IFrameSource, allows ref struct => index < frames.Count ? frames[index] : default;

    /// <summary>Decodes a message received by a client.</summary>
    public static DecodedMessage ForClient<TFrames>(TFrames frames)
        where TFrames : IFrameSource, allows ref struct
    {
        if (frames.Count == 0 || !frames[PigatoFrames.Header].SequenceEqual(PigatoFrames.Client.Span))
        {
            return DecodedMessage.Fail(PigatoErrorCodes.MessageHeader);
        }

        if (frames.Count < 2)
        {
            return DecodedMessage.Fail(PigatoErrorCodes.MessageLength);
        }

        if (!PigatoFrames.TryParseType(frames[PigatoFrames.Type], out var type))
        {
            return DecodedMessage.Fail(PigatoErrorCodes.MessageType);
        }

        return type switch
        {
            MessageType.Heartbeat when frames.Count == 4 && frames[2].SequenceEqual(PigatoFrames.HelloTag.Span) => DecodedMessage.Of(PigatoMessageKind.HelloAnswer),
            MessageType.Heartbeat => DecodedMessage.Of(PigatoMessageKind.Heartbeat),
            MessageType.Reply => Need(frames, PigatoFrames.ClientReplyStatus + 1, PigatoMessageKind.FinalReply),
            MessageType.ReplyPartial => Need(frames, PigatoFrames.ClientReplyStatus + 1, PigatoMessageKind.PartialReply),
            _ => DecodedMessage.Fail(PigatoErrorCodes.MessageType),
        };
    }

    /// <summary>Decodes a message received by a worker.</summary>
    public static DecodedMessage ForWorker<TFrames>(TFrames frames)
        where TFrames : IFrameSource, allows ref struct
    {
        if (frames.Count == 0 || !frames[PigatoFrames.Header].SequenceEqual(PigatoFrames.Worker.Span))
        {
            return DecodedMessage.Fail(PigatoErrorCodes.MessageHeader);
        }

        if (frames.Count < 2)
        {
            return DecodedMessage.Fail(PigatoErrorCodes.MessageLength);
        }

        if (!PigatoFrames.TryParseType(frames[PigatoFrames.Type], out var type))
        {
            return DecodedMessage.Fail(PigatoErrorCodes.MessageType);
        }

        return type switch
        {
            MessageType.Ready => DecodedMessage.Of(PigatoMessageKind.ReadyAnswer),
            MessageType.Heartbeat when frames.Count == 2 => DecodedMessage.Of(PigatoMessageKind.Heartbeat),
            MessageType.Heartbeat when frames.Count > PigatoFrames.WorkerRequestHeartbeatRid
                && frames[PigatoFrames.WorkerRequestHeartbeatRid - 1].SequenceEqual(PigatoFrames.CancelTag.Span) => DecodedMessage.Of(PigatoMessageKind.RequestCancel),
            MessageType.Heartbeat => Need(frames, PigatoFrames.WorkerRequestHeartbeatRid + 1, PigatoMessageKind.RequestHeartbeat),
            MessageType.Request => Need(frames, PigatoFrames.WorkerRequestRid + 1, PigatoMessageKind.Request),
            MessageType.Disconnect => DecodedMessage.Of(PigatoMessageKind.Disconnect),
            _ => DecodedMessage.Fail(PigatoErrorCodes.MessageType),
        };
    }

    /// <summary>Reads a decimal status frame (<c>0</c>, <c>-1</c>); anything else counts as an error status.</summary>
    public static bool IsOkStatus(ReadOnlySpan<byte> status) => status.SequenceEqual(PigatoFrames.StatusOk.Span);

    private static bool IsHeader(ReadOnlySpan<byte> frame) =>
        frame.SequenceEqual(PigatoFrames.Client.Span) || frame.SequenceEqual(PigatoFrames.Worker.Span);

    private static DecodedMessage Need<TFrames>(TFrames frames, int count, PigatoMessageKind kind)
        where TFrames : IFrameSource, allows ref struct =>
        frames.Count >= count ? DecodedMessage.Of(kind) : DecodedMessage.Fail(PigatoErrorCodes.MessageLength);
}
