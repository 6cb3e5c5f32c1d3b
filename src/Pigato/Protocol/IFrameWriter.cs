namespace Pigato.Protocol;

/// <summary>Receives the frames of one outgoing message, in order.</summary>
internal interface IFrameWriter
{
    /// <summary>Writes one frame; <paramref name="more"/> is false on the last frame of the message.</summary>
    /// <remarks>The frame's memory must not change afterwards: a socket may send it later without copying it.</remarks>
    void Write(ReadOnlyMemory<byte> frame, bool more);
}

/// <summary>The frames of one received message.</summary>
internal interface IFrameSource
{
    /// <summary>How many frames the message has.</summary>
    int Count { get; }

    /// <summary>The bytes of frame <paramref name="index"/>.</summary>
    ReadOnlySpan<byte> this[int index] { get; }
}
