namespace Pigato.Internal;

/// <summary>Parses a frame, or returns the last result when the frame holds the same bytes as the last one. One thread only.</summary>
/// <typeparam name="T">What a frame parses to; shared between callers, so immutable.</typeparam>
internal sealed class LastParsed<T>(LastParsed<T>.Parser parse)
{
    private byte[]? _frame;
    private T _value = default!;

    /// <summary>Parses the frame's bytes, given as the array kept for them (a parser may keep it: it never changes).</summary>
    public delegate T Parser(byte[] frame);

    /// <summary>The bytes of the last frame parsed, kept as one array (never changed: holders may share it).</summary>
    public byte[] LastFrame => _frame ?? [];

    public T Parse(ReadOnlySpan<byte> frame)
    {
        if (_frame is null || !frame.SequenceEqual(_frame))
        {
            _frame = frame.ToArray();
            _value = parse(_frame);
        }

        return _value;
    }
}
