namespace Pigato.Protocol.Compact;

/// <summary>A v2 message read by <see cref="CompactFrame.TryRead"/>: its kind, flags and the ranges of its fields in the frame.</summary>
internal readonly struct CompactMessage
{
    private readonly Range _f0, _f1, _f2, _f3, _f4;

    public CompactMessage(byte kind, byte flags, int count, ReadOnlySpan<Range> fields)
    {
        Kind = kind;
        Flags = flags;
        Count = count;
        _f0 = count > 0 ? fields[0] : default;
        _f1 = count > 1 ? fields[1] : default;
        _f2 = count > 2 ? fields[2] : default;
        _f3 = count > 3 ? fields[3] : default;
        _f4 = count > 4 ? fields[4] : default;
    }

    /// <summary>Bit 7: worker side; bits 0..6: the v1 message type.</summary>
    public byte Kind { get; }

    public byte Flags { get; }

    /// <summary>How many fields it carries.</summary>
    public int Count { get; }

    /// <summary>True on the worker side (<see cref="CompactFrame.WorkerSide"/>).</summary>
    public bool IsWorkerSide => (Kind & CompactFrame.WorkerSide) != 0;

    /// <summary>The v1 message type.</summary>
    public MessageType Type => (MessageType)(Kind & 0x7F);

    /// <summary>Field <paramref name="index"/> of <paramref name="frame"/> (the frame this message was read from).</summary>
    public ReadOnlySpan<byte> Field(ReadOnlySpan<byte> frame, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        return frame[index switch { 0 => _f0, 1 => _f1, 2 => _f2, 3 => _f3, _ => _f4 }];
    }
}
