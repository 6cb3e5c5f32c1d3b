using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using NetMQ;
using Pigato.Internal.Links.Curve;

namespace Pigato.Internal.Links;

/// <summary>
/// One ZMTP 3.0 connection on a plain, non-blocking TCP socket, with the NULL mechanism (plain text) or CURVE (RFC 26,
/// libzmq's encryption): the greeting and handshake, whole messages taken out of what was read, frames written into a
/// buffer the kernel takes at <see cref="Flush"/>. A client's or worker's link (<see cref="ZmtpLink"/>, a DEALER) and the
/// broker's ROUTER (<see cref="ZmtpRouter"/>) drive theirs on their loop thread.
/// </summary>
/// <remarks>
/// Nothing but the greeting leaves before the peer's greeting is read: libzmq closes a connection whose READY (or
/// anything after it) arrives with the greeting, before it sent its own. Our READY then goes ahead of whatever was
/// written meanwhile; with CURVE, what was written meanwhile waits in plain text (never sent) until the handshake gives
/// the key, and is sealed then. With CURVE every frame travels as its own MESSAGE command (<see cref="CurveCipher"/>):
/// a frame read is opened in place into the plain frame it carried, so that the rest of the session reads plain frames
/// either way. A frame over <c>maxFrame</c> bytes, a command inside a message, an ERROR command, a failed handshake, a
/// message that does not open or another mechanism than ours ends the session (<see cref="Failure"/> says why).
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

    /// <summary>Frame flags: more frames of the message follow.</summary>
    public const byte More = 0x01;

    /// <summary>Frame flags: a command (READY, PING...), not a message frame.</summary>
    public const byte Command = 0x04;

    private const byte Long = 0x02;

    private readonly ZmtpSettings _settings;
    private readonly long _maxFrame;

    /// <summary>The most one unfinished message may fill of the input (its frames and headers, sealed or opened).</summary>
    private readonly long _maxBuffered;
    private Stage _stage;
    private CurveHandshake? _handshake;
    private CurveCipher? _cipher;

    /// <summary>With CURVE, the plain frames written before the handshake gave the key.</summary>
    private ArrayBufferWriter<byte>? _held;

    /// <summary>
    /// The input: plain frames to take in [_inStart, _frameEnd), then (CURVE) sealed bytes not yet opened in
    /// [_rawStart, _inEnd); between the two, room the opened frames gave up. Without CURVE the three ends coincide.
    /// </summary>
    private byte[] _in = new byte[8 * 1024];
    private int _inStart;
    private int _frameEnd;
    private int _rawStart;
    private int _inEnd;
    private byte[] _out = new byte[4 * 1024];
    private int _outStart;
    private int _outEnd;

    /// <param name="socket">The connection's socket, connected before <see cref="Start"/> (which makes it non-blocking).</param>
    /// <param name="settings">What we say about ourselves, the largest frame accepted from the peer (an unfinished message may hold twice that, its frames and headers, before the session ends) and the CURVE keys.</param>
    public ZmtpSession(Socket socket, ZmtpSettings settings)
    {
        Socket = socket;
        _settings = settings;
        _maxFrame = settings.MaxFrame;
        _maxBuffered = settings.Curve is null ? 2 * _maxFrame : 2 * (_maxFrame + CurveCipher.Overhead + 9);
        if (settings.Curve is not null)
        {
            _handshake = settings.Curve.NewHandshake(settings.Metadata);
            _held = new ArrayBufferWriter<byte>();
        }
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
    public int PendingBytes => _outEnd - _outStart + (_held?.WrittenCount ?? 0);

    /// <summary>True when bytes wait that <see cref="Flush"/> may send now.</summary>
    public bool HasPending => _outEnd > _outStart && _stage != Stage.AwaitGreeting;

    /// <summary>
    /// Sends our greeting on the connected socket, made non-blocking now (not before: a blocking connect on a socket made
    /// non-blocking goes through .NET's epoll thread, which then wakes for every message the socket receives);
    /// false (see <see cref="Failure"/>) when the socket would not take it.
    /// </summary>
    public bool Start()
    {
        Socket.Blocking = false;
        Socket.NoDelay = true;
        var greeting = _settings.Greeting;
        var sent = Socket.Send(greeting, 0, greeting.Length, SocketFlags.None, out var error);
        return sent == greeting.Length || Fail("the greeting could not be sent: " + error);
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
        if (_cipher is null)
        {
            _frameEnd = _rawStart = _inEnd;
        }

        if (_stage != Stage.Ready && !AdvanceHandshake())
        {
            return -1;
        }

        return _cipher is null || OpenFrames() ? received : -1;
    }

    /// <summary>True when the last <see cref="Read"/> may have left bytes in the kernel (it filled the buffer's free room).</summary>
    public bool BufferWasFilled => _inEnd == _in.Length;

    /// <summary>
    /// Adds the frames of the next whole message to <paramref name="frames"/> where they lie in the input buffer, valid until
    /// the next <see cref="Read"/> (commands before it handled: a PING is answered); false when no whole message waits, or
    /// the session ended (<see cref="Failure"/>).
    /// </summary>
    public bool TryTakeMessage(ReceivedFrames frames)
    {
        while (_stage == Stage.Ready && Failure is null)
        {
            var position = _inStart;
            var frameCount = 0;
            while (true)
            {
                var header = ReadHeader(position, _frameEnd, _maxFrame, out var flags, out var size);
                if (header < 0)
                {
                    return Fail("a frame larger than the largest message allowed");
                }

                if (header == 0 || _frameEnd - position - header < size)
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
                var header = ReadHeader(_inStart, _frameEnd, _maxFrame, out _, out var size);
                frames.Borrow(_in, _inStart + header, (int)size);
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
            var header = ReadHeader(position, _frameEnd, _maxFrame, out var flags, out var size);
            if (header <= 0 || _frameEnd - position - header < size)
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
        if (_held is { WrittenCount: > 0 } && next._held is not null)
        {
            next._held.Write(_held.WrittenSpan);
            _held.Clear();
        }
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

    private bool Fail(string why)
    {
        Failure ??= why;
        return false;
    }

    /// <summary>The peer's greeting, then its READY (NULL) or the CURVE handshake's commands; false when the session ended.</summary>
    private bool AdvanceHandshake()
    {
        if (_stage == Stage.AwaitGreeting && (_inEnd - _inStart < GreetingSize || !TakeGreeting()))
        {
            return Failure is null;
        }

        while (_stage == Stage.AwaitReady)
        {
            var header = ReadHeader(_inStart, _inEnd, _maxFrame + CurveCipher.Overhead, out var flags, out var size);
            if (header == 0 || (header > 0 && _inEnd - _inStart - header < size))
            {
                return true;
            }

            var command = header < 0 || (flags & Command) == 0 ? default : _in.AsSpan(_inStart + header, (int)size);
            if (IsCommand(command, "ERROR"u8))
            {
                return Fail("the peer refused the handshake: " + ErrorReason(command));
            }

            if (!(_handshake is null ? TakeReady(command) : TakeCurveCommand(command)))
            {
                return false;
            }

            _inStart += header + (int)size;
            if (_cipher is not null)
            {
                _frameEnd = _rawStart = _inStart; // what follows the last handshake command is sealed
            }

            if (!Flush())
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The peer's greeting (whole in the input): ZMTP 3 and our mechanism, answered with READY or HELLO.</summary>
    private bool TakeGreeting()
    {
        var greeting = _in.AsSpan(_inStart, GreetingSize);
        if (greeting[0] != 0xFF || (greeting[9] & 1) != 1 || greeting[10] < 3)
        {
            return Fail("the peer does not speak ZMTP 3");
        }

        var mechanism = Encoding.ASCII.GetString(greeting.Slice(12, 20).TrimEnd((byte)0));
        if (mechanism != _settings.Mechanism)
        {
            // A CURVE peer for a plain one or the other way round: the connection drops before any answer (a client
            // reports a failed handshake).
            return Fail(mechanism == "NULL"
                ? $"the peer speaks plain text (NULL) and we {_settings.Mechanism}"
                : $"the peer requires the {mechanism} security mechanism and we speak {_settings.Mechanism}");
        }

        _inStart += GreetingSize;
        _stage = Stage.AwaitReady;
        if (_handshake is null)
        {
            PrependCommand(_settings.ReadyCommand);
        }
        else if (_handshake.Begin() is { } hello)
        {
            WritePlainFrame(Command, hello);
        }
        else if (_handshake.Failure is { } why)
        {
            return Fail(why);
        }

        return Flush();
    }

    /// <summary>NULL: the peer's READY and the identity it gives; messages flow.</summary>
    private bool TakeReady(ReadOnlySpan<byte> command)
    {
        if (!IsCommand(command, "READY"u8))
        {
            return Fail("the peer did not complete the ZMTP handshake");
        }

        PeerIdentity = PropertyOf(command[6..], "Identity"u8);
        _stage = Stage.Ready;
        return true;
    }

    /// <summary>CURVE: one handshake command, answered; the last gives the key, and what was written meanwhile is sealed.</summary>
    private bool TakeCurveCommand(ReadOnlySpan<byte> command)
    {
        if (command.IsEmpty)
        {
            return Fail("the peer did not complete the CURVE handshake");
        }

        if (!_handshake!.Take(command, out var reply))
        {
            return Fail(_handshake.Failure!);
        }

        if (reply is not null)
        {
            WritePlainFrame(Command, reply);
        }

        if (_handshake.Cipher is { } cipher)
        {
            PeerIdentity = PropertyOf(_handshake.PeerMetadata, "Identity"u8);
            _cipher = cipher;
            _handshake = null;
            _stage = Stage.Ready;
            SealHeld();
        }

        return true;
    }

    /// <summary>CURVE: opens every whole MESSAGE read into the plain frame it carries, behind the frames not yet taken.</summary>
    private bool OpenFrames()
    {
        while (true)
        {
            var header = ReadHeader(_rawStart, _inEnd, _maxFrame + CurveCipher.Overhead, out _, out var size);
            if (header < 0)
            {
                return Fail("a frame larger than the largest message allowed");
            }

            if (header == 0 || _inEnd - _rawStart - header < size)
            {
                return true;
            }

            if (size < CurveCipher.Overhead)
            {
                return Fail("the peer sent something other than a CURVE MESSAGE");
            }

            var bodyLength = (int)size - CurveCipher.Overhead;
            var plainHeader = HeaderSize(bodyLength);
            var flagsAt = _frameEnd + plainHeader - 1; // the flags byte lands on the plain header's last byte, then is overwritten
            if (_cipher!.Open(_in.AsSpan(_rawStart + header, (int)size), _in.AsSpan(flagsAt, bodyLength + 1)) is { } why)
            {
                return Fail(why);
            }

            var inner = _in[flagsAt];
            var flags = (byte)(((inner & 1) != 0 ? More : 0) | ((inner & 2) != 0 ? Command : 0));
            WriteHeader(_in.AsSpan(_frameEnd), flags, bodyLength);
            _frameEnd += plainHeader + bodyLength;
            _rawStart += header + (int)size;
        }
    }

    /// <summary>CURVE: the frames written before the handshake gave the key, sealed in the order they were written.</summary>
    private void SealHeld()
    {
        var held = _held!.WrittenSpan;
        while (!held.IsEmpty)
        {
            var header = (held[0] & Long) != 0 ? 9 : 2;
            var size = header == 9 ? (int)BinaryPrimitives.ReadUInt64BigEndian(held[1..]) : held[1];
            WriteSealedFrame(held[0], held.Slice(header, size));
            held = held[(header + size)..];
        }

        _held = null;
    }

    private static string ErrorReason(ReadOnlySpan<byte> error) =>
        error.Length > 6 ? Encoding.ASCII.GetString(error.Slice(7, Math.Min(error[6], error.Length - 7))) : "no reason given";

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
            if (valueLength < 0 || valueLength > metadata.Length - 5 - nameLength) // no sum that overflows
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
    /// The header of the frame at <paramref name="position"/> in what was read up to <paramref name="end"/>: its length in
    /// bytes, 0 while incomplete, -1 for a frame over <paramref name="limit"/>.
    /// </summary>
    private int ReadHeader(int position, int end, long limit, out byte flags, out long size)
    {
        flags = 0;
        size = 0;
        var available = end - position;
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
        return size < 0 || size > limit ? -1 : 9;
    }

    /// <summary>
    /// Room at the end of the input before a read: what was taken goes, the rest moves to the front, and a buffer that
    /// one unfinished message fills doubles. False when there is no room now: whole messages fill the buffer (they are
    /// taken first; the socket stays readable), or the session ends because one unfinished message would need more than
    /// twice the largest frame (a peer that never ends its message cannot grow the buffer without bound).
    /// </summary>
    private bool MakeRoomToRead()
    {
        if (_inStart == _frameEnd && _rawStart == _inEnd)
        {
            _inStart = _frameEnd = _rawStart = _inEnd = 0;
        }

        if (_inEnd < _in.Length)
        {
            return true;
        }

        var frames = _frameEnd - _inStart;
        var sealedBytes = _inEnd - _rawStart;
        if (frames + sealedBytes < _in.Length)
        {
            _in.AsSpan(_inStart, frames).CopyTo(_in);
            _in.AsSpan(_rawStart, sealedBytes).CopyTo(_in.AsSpan(frames));
            _inStart = 0;
            _frameEnd = _rawStart = frames;
            _inEnd = frames + sealedBytes;
            return true;
        }

        if (HasWholeMessage())
        {
            return false;
        }

        if (_in.Length >= _maxBuffered)
        {
            return Fail($"a message of more than {_maxBuffered} bytes");
        }

        var target = new byte[(int)Math.Min(_in.Length * 2L, Math.Max(_maxBuffered, _in.Length + 1L))];
        _in.AsSpan(0, _inEnd).CopyTo(target);
        _in = target;
        return true;
    }

    /// <summary>A frame of ours: plain text, sealed (CURVE), or held until the CURVE handshake gives the key.</summary>
    private void WriteFrame(byte flags, ReadOnlySpan<byte> body)
    {
        if (_cipher is not null)
        {
            WriteSealedFrame(flags, body);
        }
        else if (_held is not null)
        {
            var frame = _held.GetSpan(HeaderSize(body.Length) + body.Length);
            var header = WriteHeader(frame, flags, body.Length);
            body.CopyTo(frame[header..]);
            _held.Advance(header + body.Length);
        }
        else
        {
            WritePlainFrame(flags, body);
        }
    }

    private void WritePlainFrame(byte flags, ReadOnlySpan<byte> body)
    {
        Reserve(HeaderSize(body.Length) + body.Length);
        var header = WriteHeader(_out.AsSpan(_outEnd), flags, body.Length);
        body.CopyTo(_out.AsSpan(_outEnd + header));
        _outEnd += header + body.Length;
    }

    /// <summary>CURVE: the frame as a MESSAGE command in a frame of its own (no flags outside: MORE and COMMAND are sealed inside).</summary>
    private void WriteSealedFrame(byte flags, ReadOnlySpan<byte> body)
    {
        var length = CurveCipher.Overhead + body.Length;
        Reserve(HeaderSize(length) + length);
        var header = WriteHeader(_out.AsSpan(_outEnd), 0, length);
        var message = _out.AsSpan(_outEnd + header, length);
        message[CurveCipher.FlagsOffset] = (byte)(((flags & More) != 0 ? 1 : 0) | ((flags & Command) != 0 ? 2 : 0));
        body.CopyTo(message[CurveCipher.Overhead..]);
        _cipher!.Seal(message);
        _outEnd += header + length;
    }

    /// <summary>The length of a frame header for a body of <paramref name="bodyLength"/> bytes (short or long size).</summary>
    public static int HeaderSize(int bodyLength) => bodyLength > 255 ? 9 : 2;

    /// <summary>Writes a frame header (flags, then a short or long size) at the start of <paramref name="destination"/>; its length.</summary>
    public static int WriteHeader(Span<byte> destination, byte flags, int bodyLength)
    {
        if (bodyLength > 255)
        {
            destination[0] = (byte)(flags | Long);
            BinaryPrimitives.WriteUInt64BigEndian(destination[1..], (ulong)bodyLength);
            return 9;
        }

        destination[0] = flags;
        destination[1] = (byte)bodyLength;
        return 2;
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

    /// <summary>Puts a command in front of what waits to be sent (READY goes before the messages written meanwhile).</summary>
    private void PrependCommand(ReadOnlySpan<byte> body)
    {
        var pending = _outEnd - _outStart;
        var length = HeaderSize(body.Length) + body.Length;
        var target = new byte[Math.Max(pending + length, _out.Length)];
        var header = WriteHeader(target, Command, body.Length);
        body.CopyTo(target.AsSpan(header));
        _out.AsSpan(_outStart, pending).CopyTo(target.AsSpan(length));
        _out = target;
        _outStart = 0;
        _outEnd = length + pending;
    }
}
