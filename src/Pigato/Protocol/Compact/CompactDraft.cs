namespace Pigato.Protocol.Compact;

/// <summary>
/// A v2 message before it is written: its kind, flags and fields (two to four, then the options when there are any). A
/// sender writes it straight into its batch (<see cref="CompactBatch.Add"/>), so a message on the steady path has no array
/// of its own; <see cref="ToArray"/> makes one for a message that goes alone.
/// </summary>
internal readonly ref struct CompactDraft
{
    private readonly byte _kind;
    private readonly byte _flags;
    private readonly int _count;
    private readonly ReadOnlySpan<byte> _f0;
    private readonly ReadOnlySpan<byte> _f1;
    private readonly ReadOnlySpan<byte> _f2;
    private readonly ReadOnlySpan<byte> _f3;
    private readonly ReadOnlySpan<byte> _options;

    /// <summary>A message of <paramref name="count"/> fields (2 to 4: <paramref name="f0"/> on), the options last when not empty.</summary>
    public CompactDraft(byte kind, byte flags, ReadOnlySpan<byte> options, int count, ReadOnlySpan<byte> f0, ReadOnlySpan<byte> f1, ReadOnlySpan<byte> f2 = default, ReadOnlySpan<byte> f3 = default)
    {
        _kind = kind;
        _flags = options.IsEmpty ? flags : (byte)(flags | CompactCodec.HasOptions);
        _count = count;
        _f0 = f0;
        _f1 = f1;
        _f2 = f2;
        _f3 = f3;
        _options = options;
        Length = CompactFrame.HeaderLength + CompactFrame.FieldLength(f0.Length) + CompactFrame.FieldLength(f1.Length)
            + (count > 2 ? CompactFrame.FieldLength(f2.Length) : 0) + (count > 3 ? CompactFrame.FieldLength(f3.Length) : 0)
            + (options.IsEmpty ? 0 : CompactFrame.FieldLength(options.Length));
    }

    /// <summary>The message's length in bytes.</summary>
    public int Length { get; }

    /// <summary>Writes the message into <paramref name="destination"/> (at least <see cref="Length"/> bytes).</summary>
    public void WriteTo(Span<byte> destination)
    {
        var at = CompactFrame.WriteHeader(destination, _kind, _flags);
        at += CompactFrame.WriteField(destination[at..], _f0);
        at += CompactFrame.WriteField(destination[at..], _f1);
        at += _count > 2 ? CompactFrame.WriteField(destination[at..], _f2) : 0;
        at += _count > 3 ? CompactFrame.WriteField(destination[at..], _f3) : 0;
        if (!_options.IsEmpty)
        {
            CompactFrame.WriteField(destination[at..], _options);
        }
    }

    /// <summary>The message as a frame of its own.</summary>
    public byte[] ToArray()
    {
        var frame = GC.AllocateUninitializedArray<byte>(Length);
        WriteTo(frame);
        return frame;
    }
}
