namespace Pigato.Protocol.Compact;

/// <summary>
/// The v2 messages of docs/PROTOCOL-V2.md on top of <see cref="CompactFrame"/>: requests and replies, the messages of the
/// steady path, one frame each. Everything else (READY, heartbeats, disconnect) stays in v1 frames on every connection.
/// </summary>
internal static class CompactCodec
{
    /// <summary>Flag bit 0: the reply is an error (v1 status <c>-1</c>).</summary>
    public const byte ErrorStatus = 0x01;

    /// <summary>Flag bit 1: the last field is the options JSON (absent: v1's empty options frame).</summary>
    public const byte HasOptions = 0x02;

    /// <summary>A batch is sent once it holds this many bytes; a message this large goes alone.</summary>
    public const int MaxBatchBytes = 64 * 1024;

    /// <summary>... or this many messages.</summary>
    public const int MaxBatchMessages = 512;

    private const byte WorkerSide = CompactFrame.WorkerSide;

    /// <summary>Client → broker request: service, rid, data, [opts].</summary>
    public static CompactDraft ClientRequest(ReadOnlySpan<byte> service, ReadOnlySpan<byte> rid, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options) =>
        new((byte)MessageType.Request, 0, options, 3, service, rid, data);

    /// <summary>Broker → client partial or final reply: rid, data, [opts]; the status in the flags.</summary>
    public static CompactDraft ClientReply(bool final, ReadOnlySpan<byte> rid, bool error, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options) =>
        new((byte)(final ? MessageType.Reply : MessageType.ReplyPartial), error ? ErrorStatus : (byte)0, options, 2, rid, data);

    /// <summary>Broker → worker request: clientId, service (as requested), rid, data, [opts].</summary>
    public static CompactDraft WorkerRequest(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> service, ReadOnlySpan<byte> rid, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options) =>
        new(WorkerSide | (byte)MessageType.Request, 0, options, 4, clientId, service, rid, data);

    /// <summary>Worker → broker partial reply, final reply or reject (<paramref name="type"/>): clientId, rid, data, [opts].</summary>
    public static CompactDraft WorkerReply(MessageType type, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, bool error, ReadOnlySpan<byte> data, ReadOnlySpan<byte> options) =>
        new((byte)(WorkerSide | (byte)type), error ? ErrorStatus : (byte)0, options, 3, clientId, rid, data);

    /// <summary>True for a batch frame (it may still be malformed).</summary>
    public static bool IsBatch(ReadOnlySpan<byte> frame) => CompactFrame.IsCompact(frame) && frame[1] == CompactFrame.BatchKind;

    /// <summary>Decodes a v2 frame received by a broker.</summary>
    public static MessageFields ForBroker(ReadOnlySpan<byte> frame)
    {
        if (!Read(frame, out var message, out var failed))
        {
            return failed;
        }

        return message.Kind switch
        {
            (byte)MessageType.Request => Fields(frame, message, PigatoMessageKind.ClientRequest, 3, errorAllowed: false, service: 0, rid: 1, data: 2),
            WorkerSide | (byte)MessageType.Reply => Fields(frame, message, PigatoMessageKind.WorkerFinalReply, 3, errorAllowed: true, clientId: 0, rid: 1, data: 2),
            WorkerSide | (byte)MessageType.ReplyPartial => Fields(frame, message, PigatoMessageKind.WorkerPartialReply, 3, errorAllowed: true, clientId: 0, rid: 1, data: 2),
            WorkerSide | (byte)MessageType.ReplyReject => Fields(frame, message, PigatoMessageKind.WorkerReject, 3, errorAllowed: false, clientId: 0, rid: 1, data: 2),
            _ => Invalid(PigatoErrorCodes.MessageType),
        };
    }

    /// <summary>Decodes a v2 frame received by a client.</summary>
    public static MessageFields ForClient(ReadOnlySpan<byte> frame)
    {
        if (!Read(frame, out var message, out var failed))
        {
            return failed;
        }

        return message.Kind switch
        {
            (byte)MessageType.Reply => Fields(frame, message, PigatoMessageKind.FinalReply, 2, errorAllowed: true, rid: 0, data: 1),
            (byte)MessageType.ReplyPartial => Fields(frame, message, PigatoMessageKind.PartialReply, 2, errorAllowed: true, rid: 0, data: 1),
            _ => Invalid(PigatoErrorCodes.MessageType),
        };
    }

    /// <summary>Decodes a v2 frame received by a worker.</summary>
    public static MessageFields ForWorker(ReadOnlySpan<byte> frame)
    {
        if (!Read(frame, out var message, out var failed))
        {
            return failed;
        }

        return message.Kind == (WorkerSide | (byte)MessageType.Request)
            ? Fields(frame, message, PigatoMessageKind.Request, 4, errorAllowed: false, clientId: 0, service: 1, rid: 2, data: 3)
            : Invalid(PigatoErrorCodes.MessageType);
    }

    private static bool Read(ReadOnlySpan<byte> frame, out CompactMessage message, out MessageFields failed)
    {
        failed = default;
        if (CompactFrame.TryRead(frame, out message, out _))
        {
            return true;
        }

        failed = Invalid(PigatoErrorCodes.MessageLength);
        return false;
    }

    /// <summary>The fields of a kind that carries <paramref name="count"/> of them before the optional options.</summary>
    private static MessageFields Fields(ReadOnlySpan<byte> frame, CompactMessage message, PigatoMessageKind kind, int count, bool errorAllowed, int clientId = -1, int service = -1, int rid = -1, int data = -1)
    {
        var allowed = HasOptions | (errorAllowed ? ErrorStatus : 0);
        if ((message.Flags & ~allowed) != 0)
        {
            return Invalid(PigatoErrorCodes.MessageType);
        }

        var hasOptions = (message.Flags & HasOptions) != 0;
        if (message.Count != count + (hasOptions ? 1 : 0))
        {
            return Invalid(PigatoErrorCodes.MessageLength);
        }

        return new MessageFields
        {
            Kind = kind,
            Status = (message.Flags & ErrorStatus) != 0 ? PigatoFrames.StatusError.Span : PigatoFrames.StatusOk.Span,
            V2 = true,
            ClientId = clientId < 0 ? default : message.Field(frame, clientId),
            Service = service < 0 ? default : message.Field(frame, service),
            Rid = rid < 0 ? default : message.Field(frame, rid),
            Data = data < 0 ? default : message.Field(frame, data),
            Options = hasOptions ? message.Field(frame, count) : default,
        };
    }

    private static MessageFields Invalid(string error) => new() { Kind = PigatoMessageKind.Invalid, Error = error };
}
