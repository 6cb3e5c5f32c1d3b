namespace Pigato.Protocol;

/// <summary>The constant frames of the PIGATO protocol and the positions of every field.</summary>
/// <remarks>
/// Positions are as a DEALER sees a message (first frame = side header). A broker's ROUTER sees
/// the peer identity as an extra first frame: add 1.
/// </remarks>
internal static class PigatoFrames
{
    /// <summary>The side header of client messages.</summary>
    public static ReadOnlyMemory<byte> Client { get; } = "C"u8.ToArray();

    /// <summary>The side header of worker messages.</summary>
    public static ReadOnlyMemory<byte> Worker { get; } = "W"u8.ToArray();

    /// <summary>The status frame of a successful reply.</summary>
    public static ReadOnlyMemory<byte> StatusOk { get; } = "0"u8.ToArray();

    /// <summary>The status frame of an error reply.</summary>
    public static ReadOnlyMemory<byte> StatusError { get; } = "-1"u8.ToArray();

    /// <summary>The third frame of a client's request heartbeat.</summary>
    public static ReadOnlyMemory<byte> RequestHeartbeatTag { get; } = "request"u8.ToArray();

    /// <summary>The third frame of a worker heartbeat sent from a client socket (<c>C, 4, worker, workerId</c>; PIGATO-RUBY's worker).</summary>
    public static ReadOnlyMemory<byte> WorkerHeartbeatTag { get; } = "worker"u8.ToArray();

    /// <summary>Third frame of a client's cancellation (<c>C, 4, cancel, rid</c>), fourth of the broker's to a worker (<c>W, 4, clientId, cancel, rid</c>).</summary>
    public static ReadOnlyMemory<byte> CancelTag { get; } = "cancel"u8.ToArray();

    /// <summary>Third frame of a .NET client's hello and of the broker's answer (<c>C, 4, hello, JSON</c>): see docs/PROTOCOL-V2.md.</summary>
    public static ReadOnlyMemory<byte> HelloTag { get; } = "hello"u8.ToArray();

    /// <summary>What a .NET peer says when it speaks v2 framing, and a broker that agrees answers.</summary>
    public static ReadOnlyMemory<byte> CompactVersion { get; } = "{\"v\":2}"u8.ToArray();

    /// <summary>The data frame of a reply without a value (<c>JSON.stringify(null)</c>).</summary>
    public static ReadOnlyMemory<byte> Null { get; } = "null"u8.ToArray();

    /// <summary>The options frame the original sends for an absent value (<c>String(undefined)</c>).</summary>
    public static ReadOnlyMemory<byte> Undefined { get; } = "undefined"u8.ToArray();

    /// <summary>
    /// The options frame of an error reply the broker makes itself (worker lost, broker stopped...). A .NET broker
    /// never relays this exact frame from a worker, so a client can tell the broker's outcomes from a worker's error values.
    /// </summary>
    public static ReadOnlyMemory<byte> BrokerOrigin { get; } = "{\"origin\":\"broker\"}"u8.ToArray();

    /// <summary>An empty JSON object, the options frame of replies that carry no options.</summary>
    public static ReadOnlyMemory<byte> EmptyObject { get; } = "{}"u8.ToArray();

    /// <summary>Position of the side header.</summary>
    public const int Header = 0;

    /// <summary>Position of the message type.</summary>
    public const int Type = 1;

    /// <summary>Client request <c>C, 2, service, rid, data, opts</c>: the service.</summary>
    public const int RequestService = 2;

    /// <summary>Client request: the request id.</summary>
    public const int RequestRid = 3;

    /// <summary>Client request: the data.</summary>
    public const int RequestData = 4;

    /// <summary>Client request: the options.</summary>
    public const int RequestOptions = 5;

    /// <summary>Client request heartbeat <c>C, 4, request, rid</c>: the request id.</summary>
    public const int ClientRequestHeartbeatRid = 3;

    /// <summary>The worker id in a client-side worker heartbeat (<c>C, 4, worker, workerId</c>).</summary>
    public const int ClientWorkerHeartbeatId = 3;

    /// <summary>Reply to a client <c>C, 3|6, empty, rid, status, data, opts</c>: the request id.</summary>
    public const int ClientReplyRid = 3;

    /// <summary>Reply to a client: the status.</summary>
    public const int ClientReplyStatus = 4;

    /// <summary>Reply to a client: the data.</summary>
    public const int ClientReplyData = 5;

    /// <summary>Reply to a client: the options.</summary>
    public const int ClientReplyOptions = 6;

    /// <summary>A hello <c>C, 4, hello, JSON</c> (either way): the JSON.</summary>
    public const int HelloJson = 3;

    /// <summary>The broker's answer to a READY <c>W, 1, JSON</c> (a .NET broker's; PIGATO's has no JSON): the JSON.</summary>
    public const int ReadyAnswerJson = 2;

    /// <summary>Worker registration <c>W, 1, service</c>: the service.</summary>
    public const int ReadyService = 2;

    /// <summary>Worker heartbeat <c>W, 4, empty, opts</c>: the options (concurrency).</summary>
    public const int WorkerHeartbeatOptions = 3;

    /// <summary>Request to a worker <c>W, 2, clientId, service, empty, rid, data, opts</c>: the client id.</summary>
    public const int WorkerRequestClient = 2;

    /// <summary>Request to a worker: the requested service.</summary>
    public const int WorkerRequestService = 3;

    /// <summary>Request to a worker: the request id.</summary>
    public const int WorkerRequestRid = 5;

    /// <summary>Request to a worker: the data.</summary>
    public const int WorkerRequestData = 6;

    /// <summary>Request to a worker: the options.</summary>
    public const int WorkerRequestOptions = 7;

    /// <summary>Request heartbeat to a worker <c>W, 4, clientId, empty, rid</c>: the client id.</summary>
    public const int WorkerRequestHeartbeatClient = 2;

    /// <summary>Request heartbeat to a worker: the request id.</summary>
    public const int WorkerRequestHeartbeatRid = 4;

    /// <summary>Worker reply or reject <c>W, 3|6|7, clientId, empty, rid, status, data, opts</c>: the client id.</summary>
    public const int WorkerReplyClient = 2;


    /// <summary>Worker reply: the request id.</summary>
    public const int WorkerReplyRid = 4;

    /// <summary>Worker reply: the status; the frames from here on are relayed to the client unchanged.</summary>
    public const int WorkerReplyStatus = 5;


    /// <summary>Worker reply: the options.</summary>
    public const int WorkerReplyOptions = 7;

    // Frames are arrays (behind read-only memory) so that a socket can send them without a copy.
    private static readonly ReadOnlyMemory<byte>[] TypeFrames = [.. "1234567"u8.ToArray().Select(digit => (ReadOnlyMemory<byte>)new[] { digit })];

    /// <summary>The single-byte frame that encodes a message type.</summary>
    public static ReadOnlyMemory<byte> TypeFrame(MessageType type) => type is >= MessageType.Ready and <= MessageType.ReplyReject
        ? TypeFrames[(int)type - 1]
        : throw new ArgumentOutOfRangeException(nameof(type), type, "Not a PIGATO message type.");

    /// <summary>Reads a type frame; false when it is not one digit from 1 to 7.</summary>
    public static bool TryParseType(ReadOnlySpan<byte> frame, out MessageType type)
    {
        if (frame.Length == 1 && frame[0] is >= (byte)'1' and <= (byte)'7')
        {
            type = (MessageType)(frame[0] - '0');
            return true;
        }

        type = default;
        return false;
    }

    /// <summary>True when a data or options frame holds no value: missing, empty, or <c>undefined</c>.</summary>
    public static bool IsAbsent(ReadOnlySpan<byte> frame) => frame.IsEmpty || frame.SequenceEqual(Undefined.Span);
}
