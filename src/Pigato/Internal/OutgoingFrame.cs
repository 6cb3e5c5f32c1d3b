using System.Runtime.InteropServices;
using NetMQ;

namespace Pigato.Internal;

/// <summary>Turns a frame to send into a <see cref="Msg"/>.</summary>
internal static class OutgoingFrame
{
    /// <summary>An array-backed frame is sent as it is (no copy, no buffer taken from the pool); other memory is copied.</summary>
    public static Msg Of(ReadOnlyMemory<byte> frame)
    {
        var msg = new Msg();
        if (frame.IsEmpty)
        {
            msg.InitEmpty();
        }
        else if (MemoryMarshal.TryGetArray(frame, out var array))
        {
            msg.InitGC(array.Array!, array.Offset, array.Count);
        }
        else
        {
            msg.InitPool(frame.Length);
            frame.Span.CopyTo(msg.Slice());
        }

        return msg;
    }
}
