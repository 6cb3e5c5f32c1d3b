namespace Pigato.Protocol.Compact;

/// <summary>The messages of a batch frame (<see cref="CompactFrame.BatchKind"/>), in order, as ranges of the frame.</summary>
/// <remarks>A malformed length (or a batch with flags) ends the reading with <see cref="Malformed"/> set: what follows cannot be found.</remarks>
internal ref struct CompactBatchReader
{
    private readonly ReadOnlySpan<byte> _frame;
    private int _at;

    public CompactBatchReader(ReadOnlySpan<byte> frame)
    {
        _frame = frame;
        _at = CompactFrame.HeaderLength;
        Malformed = frame.Length < CompactFrame.HeaderLength || frame[2] != 0;
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

        if (!CompactFrame.TryReadField(_frame, ref _at, out var message))
        {
            Malformed = true;
            return false;
        }

        Current = message;
        return true;
    }
}
