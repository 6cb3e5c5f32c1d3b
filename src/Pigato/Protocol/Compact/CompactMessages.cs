namespace Pigato.Protocol.Compact;

/// <summary>
/// The v2 messages of a received frame, in order, as ranges of it: the frame itself when it is one message, each of its
/// fields when it is a batch (<see cref="CompactFrame.BatchKind"/>). A message that is itself a batch is handed on like
/// any other: the side's decoder refuses its kind.
/// </summary>
/// <remarks>A malformed length (or a batch with flags) ends the reading with <see cref="Malformed"/> set: what follows cannot be found.</remarks>
internal ref struct CompactMessages
{
    private readonly ReadOnlySpan<byte> _frame;
    private readonly bool _single;
    private int _at;

    public CompactMessages(ReadOnlySpan<byte> frame)
    {
        _frame = frame;
        _single = !CompactCodec.IsBatch(frame);
        _at = _single ? 0 : CompactFrame.HeaderLength;
        Malformed = !_single && frame[2] != 0;
    }

    /// <summary>The message just read.</summary>
    public Range Current { get; private set; }

    /// <summary>True when the batch is malformed (its flags, or a length): nothing more is read.</summary>
    public bool Malformed { get; private set; }

    public bool MoveNext()
    {
        if (Malformed || _at >= _frame.Length)
        {
            return false;
        }

        if (_single)
        {
            Current = Range.All;
            _at = _frame.Length;
            return true;
        }

        if (!CompactFrame.TryReadField(_frame, ref _at, out var message))
        {
            Malformed = true;
            return false;
        }

        Current = message;
        return true;
    }
}
