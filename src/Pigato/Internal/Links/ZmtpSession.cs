using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using NetMQ;

namespace Pigato.Internal.Links;

/// <summary>
/// One ZMTP 3.0 connection (NULL mechanism) on a plain, non-blocking TCP socket: the greeting and READY exchange, whole
/// messages taken out of what was read, frames written into a buffer the kernel takes at <see cref="Flush"/>. A
/// client's or worker's link (<see cref="ZmtpLink"/>, a DEALER) and the broker's ROUTER (<see cref="ZmtpRouter"/>) drive
/// theirs on their loop thread.
/// </summary>
/// <remarks>
/// Nothing but the greeting leaves before the peer's greeting is read: libzmq closes a connection whose READY (or
/// anything after it) arrives with the greeting, before it sent its own. Our READY then goes ahead of whatever was
/// written meanwhile. A frame over <c>maxFrame</c> bytes, a command inside a message, an ERROR command or anything but
/// ZMTP 3 with the NULL mechanism ends the session (<see cref="Failure"/> says why).
/// </remarks>
internal sealed class ZmtpSession : IDisposable
{
    public const int GreetingSize = 64;

    /// <summary>
    /// Bytes written in one loop callback past which the next message first hands what waits to the kernel: small bursts
    /// leave in one send after the callback, a long one (a stream of partials, a broker relaying thousands of messages in
    /// one turn) goes out as it is written instead of piling up to the per-peer bound.
    /// </summary>
    public const int WriteThroughBytes = 256 * 1024;

    private const byte More = 0x01;
    private const byte Long = 0x02;
    private const byte Command = 0x04;

    /// <summary>Our greeting: ZMTP 3.0, NULL mechanism.</summary>
    private static readonly byte[] Greeting = MakeGreeting();

    private readonly byte[] _ready;
    private readonly long _maxFrame;
    private Stage _stage;
    private byte[] _in = new byte[8 * 1024];
    private int _inStart;
    private int _inEnd;
    private byte[] _out = new byte[4 * 1024];
    private int _outStart;
    private int _outEnd;

    /// <param name="socket">A connected socket, made non-blocking here.</param>
    /// <param name="ready">Our READY command (<see cref="Ready"/>).</param>
    /// <param name="maxFrame">The largest frame accepted from the peer; an unfinished message may hold twice that (its frames and headers) before the session ends.</param>
    public ZmtpSession(Socket socket, byte[] ready, long maxFrame)
    {
        Socket = socket;
        socket.Blocking = false;
        socket.NoDelay = true;
        _ready = ready;
        _maxFrame = maxFrame;
    }

    private enum Stage
    {
        AwaitGreeting,
        AwaitReady,
        Ready,
    }

    public Socket Socket { get; }

    /// <summary>True once the peer's READY was read: messages flow.</summary>
    public bool IsReady => _stage == Stage.Ready;

    /// <summary>The identity the peer gave in its READY (a ROUTER routes by it), or empty.</summary>
    public byte[] PeerIdentity { get; private set; } = [];

    /// <summary>Why the session must end (the peer closed, broke the protocol, the socket failed), or null while it is sound.</summary>
    public string? Failure { get; private set; }

    /// <summary>Bytes written and not yet taken by the kernel.</summary>
    public int PendingBytes => _outEnd - _outStart;

    /// <summary>True when bytes wait that <see cref="Flush"/> may send now.</summary>
    public bool HasPending => _outEnd > _outStart && _stage != Stage.AwaitGreeting;

    /// <summary>Sends our greeting; false (see <see cref="Failure"/>) when the socket would not take it.</summary>
    public bool Start()
    {
        var sent = Socket.Send(Greeting, 0, Greeting.Length, SocketFlags.None, out var error);
        return sent == Greeting.Length || Fail("the greeting could not be sent: " + error);
    }

    /// <summary>
    /// Reads what the kernel has into the buffer (once) and advances the handshake: the number of bytes read, 0 when the
    /// kernel had none or whole messages must be taken first, -1 when the session ended (<see cref="Failure"/>).
    /// </summary>
    public int Read()
    {
        if (!MakeRoomToRead())
        {
            return Failure is null ? 0 : -1;
        }

        var received = Socket.Receive(_in, _inEnd, _in.Length - _inEnd, SocketFlags.None, out var error);
        if (error == SocketError.WouldBlock)
        {
            return 0;
        }

        if (error != SocketError.Success || received == 0)
        {
            Fail(received == 0 && error == SocketError.Success ? "the peer closed the connection" : "the connection failed: " + error);
            return -1;
        }

        _inEnd += received;
        return AdvanceHandshake() ? received : -1;
    }

    /// <summary>True when the last <see cref="Read"/> may have left bytes in the kernel (it filled the buffer's free room).</summary>
    public bool BufferWasFilled => _inEnd == _in.Length;

    /// <summary>
    /// Appends the frames of the next whole message to <paramref name="frames"/> (commands before it handled: a PING is
    /// answered); false when no whole message waits, or the session ended (<see cref="Failure"/>).
    /// </summary>
    public bool TryTakeMessage(ReceivedFrames frames)
    {
        while (_stage == Stage.Ready && Failure is null)
        {
            var position = _inStart;
            var frameCount = 0;
            while (true)
            {
                var header = ReadHeader(position, out var flags, out var size);
                if (header < 0)
                {
                    return Fail("a frame larger than the largest message allowed");
                }

                if (header == 0 || _inEnd - position - header < size)
                {
                    return false;
                }

                if ((flags & Command) != 0)
                {
                    if (frameCount > 0)
                    {
                        return Fail("a command inside a message");
                    }

                    OnCommand(_in.AsSpan(position + header, (int)size));
                    _inStart = position += header + (int)size;
                    if (Failure is not null)
                    {
                        return false;
                    }

                    continue;
                }

                frameCount++;
                position += header + (int)size;
                if ((flags & More) == 0)
                {
                    break;
                }
            }

            while (frameCount-- > 0)
            {
                var header = ReadHeader(_inStart, out _, out var size);
                frames.Append(_in.AsSpan(_inStart + header, (int)size));
                _inStart += header + (int)size;
            }

            return true;
        }

        return false;
    }

    /// <summary>True when a whole message (or command) waits in what was read.</summary>
    public bool HasWholeMessage()
    {
        if (_stage != Stage.Ready)
        {
            return false;
        }

        var position = _inStart;
        while (true)
        {
            var header = ReadHeader(position, out var flags, out var size);
            if (header <= 0 || _inEnd - position - header < size)
            {
                return header < 0;
            }

            position += header + (int)size;
            if ((flags & (More | Command)) != More)
            {
                return true;
            }
        }
    }

    /// <summary>Writes one frame of a message (the kernel gets it at <see cref="Flush"/>); <paramref name="frame"/> is empty afterwards.</summary>
    public void Write(ref Msg frame, bool more)
    {
        WriteFrame(more ? More : (byte)0, frame.Slice());
        frame.Close();
        frame.InitEmpty();
    }

    /// <summary>Hands what was written to the kernel, as much as it takes; false when the session ended (<see cref="Failure"/>).</summary>
    public bool Flush()
    {
        if (_stage == Stage.AwaitGreeting || Failure is not null)
        {
            return Failure is null;
        }

        while (_outStart < _outEnd)
        {
            var sent = Socket.Send(_out, _outStart, _outEnd - _outStart, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                break;
            }

            if (error != SocketError.Success)
            {
                return Fail("the connection failed while sending: " + error);
            }

            _outStart += sent;
        }

        if (_outStart == _outEnd)
        {
            _outStart = _outEnd = 0;
        }

        return true;
    }

    /// <summary>
    /// Hands what was written here to <paramref name="next"/>, a session for the same peer on a new socket: a connection
    /// attempt that failed never sent it, and it must leave with the one that succeeds, as ZeroMQ keeps a DEALER's
    /// messages until it connects.
    /// </summary>
    public void MoveUnsentTo(ZmtpSession next)
    {
        var pending = _out.AsSpan(_outStart, _outEnd - _outStart);
        next.Reserve(pending.Length);
        pending.CopyTo(next._out.AsSpan(next._outEnd));
        next._outEnd += pending.Length;
        _outStart = _outEnd = 0;
    }

    /// <summary>What is still unsent gets up to <paramref name="linger"/>, as a ZeroMQ socket's; the kernel sends what it took after the close.</summary>
    public void Linger(TimeSpan linger)
    {
        if (_outStart == _outEnd || linger <= TimeSpan.Zero || _stage == Stage.AwaitGreeting)
        {
            return;
        }

        try
        {
            Socket.Blocking = true;
            Socket.SendTimeout = (int)Math.Clamp(linger.TotalMilliseconds, 1, int.MaxValue);
            while (_outStart < _outEnd)
            {
                _outStart += Socket.Send(_out, _outStart, _outEnd - _outStart, SocketFlags.None);
            }
        }
        catch (SocketException)
        {
            // The peer is gone or does not read: what is left is lost, as with ZeroMQ past its linger.
        }
    }

    public void Dispose() => Socket.Dispose();

    /// <summary>Our READY command: <paramref name="socketType"/> (DEALER, ROUTER), with <paramref name="identity"/> when given.</summary>
    public static byte[] Ready(string socketType, byte[]? identity)
    {
        var ready = new List<byte> { 5 };
        ready.AddRange("READY"u8.ToArray());
        Property(ready, "Socket-Type", Encoding.ASCII.GetBytes(socketType));
        if (identity is not null)
        {
            Property(ready, "Identity", identity);
        }

        var command = new List<byte>(ready.Count + 9);
        if (ready.Count > 255)
        {
            command.Add(Command | Long);
            var size = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(size, (ulong)ready.Count);
            command.AddRange(size);
        }
        else
        {
            command.Add(Command);
            command.Add((byte)ready.Count);
        }

        command.AddRange(ready);
        return [.. command];
    }

    private bool Fail(string why)
    {
        Failure ??= why;
        return false;
    }

    /// <summary>The peer's greeting, then its READY; false when the session ended.</summary>
    private bool AdvanceHandshake()
    {
        if (_stage == Stage.AwaitGreeting)
        {
            if (_inEnd - _inStart < GreetingSize)
            {
                return true;
            }

            var greeting = _in.AsSpan(_inStart, GreetingSize);
            if (greeting[0] != 0xFF || (greeting[9] & 1) != 1 || greeting[10] < 3)
            {
                return Fail("the peer does not speak ZMTP 3");
            }

            var mechanism = greeting.Slice(12, 20).TrimEnd((byte)0);
            if (!mechanism.SequenceEqual("NULL"u8))
            {
                // A CURVE (or PLAIN) peer: the connection drops before any answer (a client reports a failed handshake).
                return Fail("the peer requires the " + Encoding.ASCII.GetString(mechanism) + " security mechanism");
            }

            _inStart += GreetingSize;
            _stage = Stage.AwaitReady;
            Prepend(_ready);
            if (!Flush())
            {
                return false;
            }
        }

        if (_stage == Stage.AwaitReady)
        {
            var header = ReadHeader(_inStart, out var flags, out var size);
            if (header == 0 || (header > 0 && _inEnd - _inStart - header < size))
            {
                return true;
            }

            if (header < 0 || (flags & Command) == 0 || !IsCommand(_in.AsSpan(_inStart + header, (int)size), "READY"u8))
            {
                return Fail("the peer did not complete the ZMTP handshake");
            }

            PeerIdentity = PropertyOf(_in.AsSpan(_inStart + header + 6, (int)size - 6), "Identity"u8);
            _inStart += header + (int)size;
            _stage = Stage.Ready;
        }

        return true;
    }

    /// <summary>A command between messages: a heartbeat PING is answered (ZMTP 3.1), an ERROR ends the session, others are ignored.</summary>
    private void OnCommand(ReadOnlySpan<byte> body)
    {
        if (IsCommand(body, "PING"u8) && body.Length >= 7)
        {
            var context = body[7..];
            Span<byte> pong = stackalloc byte[5 + context.Length];
            pong[0] = 4;
            "PONG"u8.CopyTo(pong[1..]);
            context.CopyTo(pong[5..]);
            WriteFrame(Command, pong);
        }
        else if (IsCommand(body, "ERROR"u8))
        {
            Fail("the peer sent a ZMTP ERROR");
        }
    }

    private static bool IsCommand(ReadOnlySpan<byte> body, ReadOnlySpan<byte> name) =>
        body.Length > name.Length && body[0] == name.Length && body.Slice(1, name.Length).SequenceEqual(name);

    /// <summary>The value of property <paramref name="name"/> in a READY's metadata, or empty (also for malformed metadata).</summary>
    private static byte[] PropertyOf(ReadOnlySpan<byte> metadata, ReadOnlySpan<byte> name)
    {
        while (metadata.Length > 0)
        {
            var nameLength = metadata[0];
            if (metadata.Length < 1 + nameLength + 4)
            {
                return [];
            }

            var key = metadata.Slice(1, nameLength);
            var valueLength = BinaryPrimitives.ReadInt32BigEndian(metadata.Slice(1 + nameLength, 4));
            if (valueLength < 0 || metadata.Length < 5 + nameLength + valueLength)
            {
                return [];
            }

            if (Ascii.EqualsIgnoreCase(key, name))
            {
                return metadata.Slice(5 + nameLength, valueLength).ToArray();
            }

            metadata = metadata[(5 + nameLength + valueLength)..];
        }

        return [];
    }

    /// <summary>
    /// The header of the frame at <paramref name="position"/>: its length in bytes, 0 while incomplete, -1 for a frame over
    /// the largest allowed.
    /// </summary>
    private int ReadHeader(int position, out byte flags, out long size)
    {
        flags = 0;
        size = 0;
        var available = _inEnd - position;
        if (available < 2)
        {
            return 0;
        }

        flags = _in[position];
        if ((flags & Long) == 0)
        {
            size = _in[position + 1];
            return 2;
        }

        if (available < 9)
        {
            return 0;
        }

        size = (long)BinaryPrimitives.ReadUInt64BigEndian(_in.AsSpan(position + 1, 8));
        return size < 0 || size > _maxFrame ? -1 : 9;
    }

    /// <summary>
    /// Room at the end of the input before a read: what was taken goes, the rest moves to the front, and a buffer that
    /// one unfinished message fills doubles. False when there is no room now: whole messages fill the buffer (they are
    /// taken first; the socket stays readable), or the session ends because one unfinished message would need more than
    /// twice the largest frame (a peer that never ends its message cannot grow the buffer without bound).
    /// </summary>
    private bool MakeRoomToRead()
    {
        if (_inStart == _inEnd)
        {
            _inStart = _inEnd = 0;
        }

        if (_inEnd < _in.Length)
        {
            return true;
        }

        if (_inStart > 0)
        {
            _in.AsSpan(_inStart, _inEnd - _inStart).CopyTo(_in);
            _inEnd -= _inStart;
            _inStart = 0;
            return true;
        }

        if (HasWholeMessage())
        {
            return false;
        }

        if (_in.Length >= 2 * _maxFrame)
        {
            return Fail($"a message of more than {2 * _maxFrame} bytes");
        }

        var target = new byte[(int)Math.Min(_in.Length * 2L, Math.Max(2 * _maxFrame, _in.Length + 1L))];
        _in.AsSpan(0, _inEnd).CopyTo(target);
        _in = target;
        return true;
    }

    private void WriteFrame(byte flags, ReadOnlySpan<byte> body)
    {
        var header = body.Length > 255 ? 9 : 2;
        Reserve(header + body.Length);
        if (header == 9)
        {
            _out[_outEnd] = (byte)(flags | Long);
            BinaryPrimitives.WriteUInt64BigEndian(_out.AsSpan(_outEnd + 1), (ulong)body.Length);
        }
        else
        {
            _out[_outEnd] = flags;
            _out[_outEnd + 1] = (byte)body.Length;
        }

        body.CopyTo(_out.AsSpan(_outEnd + header));
        _outEnd += header + body.Length;
    }

    private void Reserve(int bytes)
    {
        if (_out.Length - _outEnd >= bytes)
        {
            return;
        }

        var pending = _outEnd - _outStart;
        var target = pending + bytes > _out.Length ? new byte[Math.Max(pending + bytes, _out.Length * 2)] : _out;
        _out.AsSpan(_outStart, pending).CopyTo(target);
        _outStart = 0;
        _outEnd = pending;
        _out = target;
    }

    /// <summary>Puts <paramref name="bytes"/> in front of what waits to be sent (READY goes before the messages written meanwhile).</summary>
    private void Prepend(byte[] bytes)
    {
        var pending = _outEnd - _outStart;
        var target = new byte[Math.Max(pending + bytes.Length, _out.Length)];
        bytes.CopyTo(target, 0);
        _out.AsSpan(_outStart, pending).CopyTo(target.AsSpan(bytes.Length));
        _out = target;
        _outStart = 0;
        _outEnd = bytes.Length + pending;
    }

    private static byte[] MakeGreeting()
    {
        var greeting = new byte[GreetingSize];
        greeting[0] = 0xFF;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        "NULL"u8.CopyTo(greeting.AsSpan(12));
        return greeting;
    }

    private static void Property(List<byte> command, string name, ReadOnlySpan<byte> value)
    {
        command.Add((byte)name.Length);
        command.AddRange(Encoding.ASCII.GetBytes(name));
        var size = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, value.Length);
        command.AddRange(size);
        command.AddRange(value.ToArray());
    }
}
