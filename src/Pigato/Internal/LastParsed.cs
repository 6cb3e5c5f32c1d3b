namespace Pigato.Internal;

/// <summary>Parses a frame, or returns the last result when the frame holds the same bytes as the last one. One thread only.</summary>
/// <typeparam name="T">What a frame parses to; shared between callers, so immutable.</typeparam>
internal sealed class LastParsed<T>(LastParsed<T>.Parser parse)
{
    private byte[]? _frame;
    private T _value = default!;

    public delegate T Parser(ReadOnlySpan<byte> frame);

    /// <summary>The bytes of the last frame parsed, kept as one array (never changed: holders may share it).</summary>
    public byte[] LastFrame => _frame ?? [];

    public T Parse(ReadOnlySpan<byte> frame)
    {
        if (_frame is null || !frame.SequenceEqual(_frame))
        {
            _value = parse(frame);
            _frame = frame.ToArray();
        }

        return _value;
    }
}
