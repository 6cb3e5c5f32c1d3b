using System.Buffers;

namespace Pigato.Protocol.Compact;

/// <summary>
/// v2 messages waiting to leave together in one frame (a batch: kind <see cref="CompactFrame.BatchKind"/>, each message a
/// field): full at <see cref="CompactCodec.MaxBatchBytes"/> or <see cref="CompactCodec.MaxBatchMessages"/>; a message too
/// large to share a batch goes alone. Messages are written straight into one buffer rented from the shared pool (given
/// back at <see cref="Clear"/>), so the only array a batch makes is its frame, and none for a transport that copies what it
/// sends. One thread only.
/// </summary>
internal class CompactBatch
{
    private const int FirstRent = 4096;

    private byte[]? _buffer;
    private int _end;
    private int _firstAt;
    private int _firstLength;

    /// <summary>How many messages wait.</summary>
    public int Count { get; private set; }

    /// <summary>Their bytes (without the batch's own framing).</summary>
    public int Bytes { get; private set; }

    /// <summary>True for a message that goes alone, never in a batch.</summary>
    public static bool IsTooLarge(in CompactDraft message) => message.Length >= CompactCodec.MaxBatchBytes;

    /// <summary>Adds a message; true when the batch is now full (send it).</summary>
    public bool Add(in CompactDraft message)
    {
        var length = message.Length;
        var buffer = Reserve(CompactFrame.FieldLength(length));
        var at = _end + CompactFrame.WriteVarint(buffer.AsSpan(_end), (uint)length);
        message.WriteTo(buffer.AsSpan(at, length));
        if (Count == 0)
        {
            _firstAt = at;
            _firstLength = length;
        }

        _end = at + length;
        Count++;
        Bytes += length;
        return Bytes >= CompactCodec.MaxBatchBytes || Count >= CompactCodec.MaxBatchMessages;
    }

    /// <summary>
    /// The frame to send: the message itself when alone, else a batch frame. <paramref name="borrowed"/>: in the batch's own
    /// buffer, valid until <see cref="Clear"/> (for a transport that copies what it sends); else an array of its own.
    /// </summary>
    public ReadOnlyMemory<byte> Frame(bool borrowed)
    {
        if (Count == 0)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        ReadOnlyMemory<byte> frame;
        if (Count == 1)
        {
            frame = _buffer.AsMemory(_firstAt, _firstLength);
        }
        else
        {
            CompactFrame.WriteHeader(_buffer, CompactFrame.BatchKind, 0);
            frame = _buffer.AsMemory(0, _end);
        }

        return borrowed ? frame : Copy(frame.Span);
    }

    /// <summary>Empties the batch and gives its buffer back to the pool.</summary>
    public virtual void Clear()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
        }

        _end = 0;
        Count = 0;
        Bytes = 0;
    }

    /// <summary>The buffer, with room for <paramref name="bytes"/> more after <see cref="_end"/> (the batch header's room comes first).</summary>
    private byte[] Reserve(int bytes)
    {
        if (_buffer is null)
        {
            _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(FirstRent, CompactFrame.HeaderLength + bytes));
            _end = CompactFrame.HeaderLength;
        }
        else if (_buffer.Length - _end < bytes)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _end + bytes));
            _buffer.AsSpan(0, _end).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        return _buffer;
    }

    /// <summary>A frame's own array, for NetMQ, which keeps it until sent.</summary>
    private static byte[] Copy(ReadOnlySpan<byte> bytes)
    {
        var frame = GC.AllocateUninitializedArray<byte>(bytes.Length);
        bytes.CopyTo(frame);
        return frame;
    }
}
