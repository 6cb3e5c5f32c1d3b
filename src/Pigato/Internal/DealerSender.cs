using NetMQ;
using Pigato.Protocol;

namespace Pigato.Internal;

/// <summary>
/// Writes messages to a client's or worker's link to its broker without ever waiting for room. A message that finds the pipe to the
/// broker full (or messages already waiting) is copied into a bounded local queue, in order, and sent as the pipe frees
/// (<see cref="Drain"/>); past the bound it is refused and reported through <see cref="EndMessage"/>, so that the caller
/// always knows about a lost message. Loop thread only: the loop goes on receiving and timing while the broker catches up.
/// </summary>
/// <remarks>
/// NetMQ checks the high-water mark once per message, at its first frame, so only that frame can find the pipe full;
/// the rest of a message that started never waits.
/// </remarks>
internal sealed class DealerSender(Links.IBrokerLink link, int maxQueuedMessages, long maxQueuedBytes) : IFrameWriter
{
    private readonly Queue<byte[][]> _queue = new();
    private readonly List<byte[]> _captured = [];
    private State _state = State.AtStart;
    private long _capturedBytes;

    private enum State
    {
        AtStart,
        Direct,
        Capturing,
    }

    /// <summary>True while messages wait for room in the pipe.</summary>
    public bool HasQueued => _queue.Count > 0;

    /// <summary>Bytes waiting in the local queue.</summary>
    public long QueuedBytes { get; private set; }

    /// <inheritdoc />
    /// <remarks>An array-backed frame is sent as it is (no copy, no buffer taken from the pool).</remarks>
    public void Write(ReadOnlyMemory<byte> frame, bool more)
    {
        if (_state == State.AtStart)
        {
            // What waits goes first, so that the broker sees messages in the order they were written.
            _state = (_queue.Count == 0 || Drain()) && TrySendFirst(frame, more) ? State.Direct : State.Capturing;
            if (_state == State.Capturing)
            {
                Capture(frame.ToArray());
            }

            return;
        }

        if (_state == State.Direct)
        {
            var msg = OutgoingFrame.Of(frame);
            link.SendMore(ref msg, more);
        }
        else
        {
            Capture(frame.ToArray());
        }
    }

    /// <summary>Ends the message written: true when it was sent or queued, false when the queue is full (it is lost).</summary>
    public bool EndMessage()
    {
        var ok = _state != State.Capturing || Enqueue();
        _state = State.AtStart;
        return ok;
    }

    /// <summary>Sends what waits, oldest first, while the pipe takes it; true when nothing waits any longer.</summary>
    public bool Drain()
    {
        while (_queue.TryPeek(out var frames))
        {
            var first = new Msg();
            first.InitGC(frames[0], frames[0].Length);
            if (!link.TryStartMessage(ref first, frames.Length > 1))
            {
                first.Close();
                return false;
            }

            var bytes = (long)frames[0].Length;
            for (var i = 1; i < frames.Length; i++)
            {
                var msg = new Msg();
                msg.InitGC(frames[i], frames[i].Length);
                link.SendMore(ref msg, i < frames.Length - 1);
                bytes += frames[i].Length;
            }

            _queue.Dequeue();
            QueuedBytes -= bytes;
        }

        return true;
    }

    private bool TrySendFirst(ReadOnlyMemory<byte> frame, bool more)
    {
        var msg = OutgoingFrame.Of(frame);
        if (link.TryStartMessage(ref msg, more))
        {
            return true;
        }

        msg.Close();
        return false;
    }

    private void Capture(byte[] frame)
    {
        if (_captured.Count == 0)
        {
            _capturedBytes = 0;
        }

        _captured.Add(frame);
        _capturedBytes += frame.Length;
    }

    private bool Enqueue()
    {
        var frames = _captured.ToArray();
        var bytes = _capturedBytes;
        _captured.Clear();
        if (_queue.Count >= maxQueuedMessages || QueuedBytes + bytes > maxQueuedBytes)
        {
            return false;
        }

        _queue.Enqueue(frames);
        QueuedBytes += bytes;
        return true;
    }
}
