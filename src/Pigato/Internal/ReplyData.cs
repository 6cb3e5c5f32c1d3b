namespace Pigato.Internal;

/// <summary>
/// One reply on its way from a handler to the worker's loop: its kind, data and options frames, and the owner of the
/// data when the handler handed over a buffer without a copy (disposed by <see cref="Release"/> once written out).
/// </summary>
internal readonly record struct ReplyData(ReplyKind Kind, ReadOnlyMemory<byte> Data, ReadOnlyMemory<byte> Options, IDisposable? Owner = null)
{
    /// <summary>The data as an array that stays valid after <see cref="Release"/>: v1 hands frames to NetMQ as they are.</summary>
    public ReadOnlyMemory<byte> DataToKeep => Owner is null ? Data : Data.ToArray();

    /// <summary>Gives a handed-over buffer back to its owner.</summary>
    public void Release() => Owner?.Dispose();
}
