namespace Pigato.Protocol.Compact;

/// <summary>
/// v2 messages waiting to leave together in one frame (<see cref="CompactCodec.Batch"/>): full at
/// <see cref="CompactCodec.MaxBatchBytes"/> or <see cref="CompactCodec.MaxBatchMessages"/>; a message too large to share a
/// batch goes alone. One thread only.
/// </summary>
internal class CompactBatch
{
    public List<byte[]> Messages { get; } = [];

    public int Bytes { get; private set; }

    /// <summary>True for a message that goes alone, never in a batch.</summary>
    public static bool IsTooLarge(byte[] message) => message.Length >= CompactCodec.MaxBatchBytes;

    /// <summary>Adds a message; true when the batch is now full (send it).</summary>
    public bool Add(byte[] message)
    {
        Messages.Add(message);
        Bytes += message.Length;
        return Bytes >= CompactCodec.MaxBatchBytes || Messages.Count >= CompactCodec.MaxBatchMessages;
    }

    /// <summary>The frame to send: the message itself when alone, else a batch frame.</summary>
    public byte[] Frame() => Messages.Count == 1 ? Messages[0] : CompactCodec.Batch(Messages);

    public virtual void Clear()
    {
        Messages.Clear();
        Bytes = 0;
    }
}
