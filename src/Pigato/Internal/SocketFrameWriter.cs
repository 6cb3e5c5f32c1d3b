using NetMQ;
using Pigato.Protocol;

namespace Pigato.Internal;

/// <summary>
/// Writes frames to a socket owned by the calling thread. A message whose first frame cannot be sent
/// (peer gone with RouterMandatory, or queue still full after <c>sendTimeout</c>) is skipped whole and
/// reported through <see cref="EndMessage"/>, so that the caller always knows about a lost message.
/// </summary>
internal sealed class SocketFrameWriter(NetMQSocket socket, TimeSpan sendTimeout) : IFrameWriter
{
    private bool _atStart = true;
    private bool _skipping;
    private bool _failed;

    /// <inheritdoc />
    /// <remarks>An array-backed frame is sent as it is (no copy, no buffer taken from the pool).</remarks>
    public void Write(ReadOnlyMemory<byte> frame, bool more)
    {
        var msg = OutgoingFrame.Of(frame);
        Send(ref msg, more);
    }

    /// <summary>Sends a received frame on without copying it; <paramref name="msg"/> is empty afterwards.</summary>
    public void Forward(ref Msg msg, bool more) => Send(ref msg, more);

    /// <summary>Returns whether the message just written went out, and resets for the next one.</summary>
    public bool EndMessage()
    {
        var ok = !_failed;
        _failed = false;
        _skipping = false;
        _atStart = true;
        return ok;
    }

    private void Send(ref Msg msg, bool more)
    {
        if (_skipping)
        {
            msg.Close();
            msg.InitEmpty();
            _skipping = more;
            _atStart = !more;
            return;
        }

        bool sent;
        try
        {
            // Only the first frame can fail: ZeroMQ checks the high-water mark per message, not per frame.
            sent = socket.TrySend(ref msg, _atStart ? sendTimeout : SendReceiveConstants.InfiniteTimeout, more);
        }
        catch (HostUnreachableException)
        {
            sent = false;
        }

        if (!sent)
        {
            msg.Close();
            msg.InitEmpty();
            _failed = true;
            _skipping = more;
        }

        _atStart = !more;
    }
}
