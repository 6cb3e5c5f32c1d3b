namespace Pigato.Protocol;

/// <summary>
/// A received message's fields by name, whichever framing it came in: spans of the received frames (v1) or of the one
/// v2 frame (<see cref="Compact.CompactCodec"/>). Fields its kind does not carry are empty.
/// </summary>
internal readonly ref struct MessageFields
{
    /// <summary>The kind, or <see cref="PigatoMessageKind.Invalid"/> with <see cref="Error"/>.</summary>
    public PigatoMessageKind Kind { get; init; }

    /// <summary>The error code (<see cref="PigatoErrorCodes"/>) when the frame is malformed for this side.</summary>
    public string? Error { get; init; }

    public ReadOnlySpan<byte> ClientId { get; init; }

    /// <summary>A worker's heartbeat sent from a client socket: the worker's id.</summary>
    public ReadOnlySpan<byte> WorkerId { get; init; }

    public ReadOnlySpan<byte> Service { get; init; }

    public ReadOnlySpan<byte> Rid { get; init; }

    public ReadOnlySpan<byte> Data { get; init; }

    /// <summary>The options JSON, empty when the message carries none.</summary>
    public ReadOnlySpan<byte> Options { get; init; }

    /// <summary>Replies: the status as v1 writes it (<c>0</c>, <c>-1</c>); v2's flag is read as one of those.</summary>
    public ReadOnlySpan<byte> Status { get; init; }

    /// <summary>True when it came in v2 framing: only the codec layer reads it (a v1 message may be forwarded frame by frame).</summary>
    public bool V2 { get; init; }

    /// <summary>True for an error reply (any status but <c>0</c>).</summary>
    public bool IsError => !PigatoDecoder.IsOkStatus(Status);
}
