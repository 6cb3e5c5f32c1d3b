using NetMQ;
using Pigato.Protocol;

namespace Pigato.Internal;

/// <summary>
/// The frames of one received message, held in reused <see cref="Msg"/> structs so that receiving
/// allocates nothing. <see cref="Base"/> hides leading routing frames from the decoder's indexes.
/// </summary>
internal sealed class ReceivedFrames : IFrameSource, IDisposable
{
    private readonly Msg[] _frames;
    private int _count;

    public ReceivedFrames(int maxFrames)
    {
        _frames = new Msg[maxFrames];
        for (var i = 0; i < _frames.Length; i++)
        {
            _frames[i].InitEmpty();
        }
    }

    /// <summary>How many leading frames (routing identity) the indexer skips.</summary>
    public int Base { get; set; }

    /// <summary>True when the message had more frames than this buffer holds (the rest were discarded).</summary>
    public bool Truncated { get; private set; }

    /// <inheritdoc />
    public int Count => _count - Base;

    /// <inheritdoc />
    public ReadOnlySpan<byte> this[int index] => _frames[index + Base].Slice();

    /// <summary>The bytes of every frame after the routing frames (what a peer sent), discarded frames included.</summary>
    public int Size { get; private set; }

    /// <summary>A frame by absolute position, routing frames included.</summary>
    public ReadOnlySpan<byte> Raw(int index) => _frames[index].Slice();

    /// <summary>The frame at <paramref name="index"/> (relative to <see cref="Base"/>), or empty when missing.</summary>
    public ReadOnlySpan<byte> Optional(int index) => index < Count ? this[index] : [];

    /// <summary>A reference to the Msg at <paramref name="index"/> (relative to <see cref="Base"/>) so it can be sent on without a copy.</summary>
    public ref Msg Frame(int index) => ref _frames[index + Base];

    /// <summary>A reference to the Msg at absolute position <paramref name="index"/> (routing frames included).</summary>
    public ref Msg RawFrame(int index) => ref _frames[index];

    /// <summary>Receives one whole message if one arrives within <paramref name="wait"/> (default: only one already waiting).</summary>
    public bool TryReceive(NetMQSocket socket, TimeSpan wait = default)
    {
        Clear();
        if (!socket.TryReceive(ref _frames[0], wait))
        {
            return false;
        }

        _count = 1;
        var size = Base == 0 ? _frames[0].Size : 0;
        var more = _frames[0].HasMore;
        var overflow = new Msg();
        while (more)
        {
            if (_count < _frames.Length)
            {
                socket.TryReceive(ref _frames[_count], SendReceiveConstants.InfiniteTimeout);
                more = _frames[_count].HasMore;
                size += _count >= Base ? _frames[_count].Size : 0;
                _count++;
            }
            else
            {
                // Too many frames for any PIGATO message: drain the rest so the next message starts clean.
                overflow.InitEmpty();
                socket.TryReceive(ref overflow, SendReceiveConstants.InfiniteTimeout);
                more = overflow.HasMore;
                size += overflow.Size;
                overflow.Close();
                Truncated = true;
            }
        }

        Size = size;

        return true;
    }

    /// <summary>
    /// Adds a frame that stays where a transport of Pigato's own read it (no copy), after <see cref="Clear"/>: it is valid
    /// until that transport reads again, which it does only once this message was handled (one message at a time, on the
    /// loop); whoever keeps a frame longer copies it, as <see cref="Protocol.MessageFields"/>' spans make them do. A frame
    /// sent on (<see cref="RouterSender.Forward"/>) goes through the same transport, which copies what it sends.
    /// </summary>
    public void Borrow(byte[] buffer, int offset, int length)
    {
        Size += _count >= Base ? length : 0;
        if (_count == _frames.Length)
        {
            Truncated = true;
            return;
        }

        _frames[_count].Close();
        _frames[_count].InitGC(buffer, offset, length);
        _count++;
    }

    /// <summary>Releases the frames of the last message (those not already sent on).</summary>
    public void Clear()
    {
        for (var i = 0; i < _count; i++)
        {
            _frames[i].Close();
            _frames[i].InitEmpty();
        }

        _count = 0;
        Size = 0;
        Truncated = false;
    }

    public void Dispose()
    {
        Clear();
        for (var i = 0; i < _frames.Length; i++)
        {
            _frames[i].Close();
        }
    }
}
