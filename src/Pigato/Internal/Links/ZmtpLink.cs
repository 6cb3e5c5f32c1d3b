using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using NetMQ;

namespace Pigato.Internal.Links;

/// <summary>
/// A link that speaks ZMTP 3.0 (NULL mechanism, as a DEALER) itself, on a plain TCP socket the loop polls: the loop
/// thread reads and writes the kernel's socket, with no I/O thread in between (NetMQ's adds a thread wake-up each way
/// per message; docs/performance.md has the numbers). Wire-compatible with any ZeroMQ ROUTER (NetMQ's, libzmq's).
/// </summary>
/// <remarks>
/// What is sent before the connection is up, or while it is down, waits in the link and leaves after the handshake;
/// what was still unsent when an established connection dropped is dropped with it (the connection's owner resends
/// what the broker may not have, as it does over NetMQ). The kernel takes what it can at every <see cref="Flush"/> (at
/// the end of each loop callback); the rest waits for the next one, and a new message is refused past
/// <see cref="MaxPendingBytes"/> so that the connection queues it (its bounded local queue).
/// </remarks>
internal sealed class ZmtpLink : IBrokerLink
{
    /// <summary>Bytes the kernel has not taken yet past which a new message is refused.</summary>
    public const int MaxPendingBytes = 4 << 20;

    private const int GreetingSize = 64;
    private const byte More = 0x01;
    private const byte Long = 0x02;
    private const byte Command = 0x04;

    /// <summary>Reads per readable event before other work gets a turn.</summary>
    private const int MaxReadsPerEvent = 16;

    /// <summary>The pause before connecting again, as NetMQ's default reconnect interval.</summary>
    private static readonly TimeSpan ReconnectInterval = TimeSpan.FromMilliseconds(100);

    private readonly string _endpoint;
    private readonly string _host;
    private readonly int _port;
    private readonly ActorLoop _loop;
    private readonly LinkEvents _events;
    private readonly ILogger _logger;
    private readonly long _maxFrame;
    private readonly TimeSpan _linger;
    private readonly byte[] _ready;
    private int _attempts;
    private Socket? _socket;
    private bool _connected;
    private bool _disposed;
    private Stage _stage;
    private byte[] _in = new byte[64 * 1024];
    private int _inStart;
    private int _inEnd;
    private byte[] _out = new byte[64 * 1024];
    private int _outStart;
    private int _outEnd;

    private enum Stage
    {
        AwaitGreeting,
        AwaitReady,
        Ready,
    }

    public ZmtpLink(string endpoint, string host, int port, string identity, ConnectionSettings settings, ActorLoop loop, LinkEvents events, ILogger logger)
    {
        _endpoint = endpoint;
        _logger = logger;
        _host = host;
        _port = port;
        _loop = loop;
        _events = events;
        _maxFrame = settings.MaxMessageSize > 0 ? (long)settings.MaxMessageSize + SocketFactory.TransportSlack : int.MaxValue;
        _linger = settings.Linger;
        _ready = Ready(identity);
        Restart();
        Connect();
    }

    /// <summary>The host and port of a <c>tcp://HOST:PORT</c> endpoint this link can connect to; false for any other endpoint.</summary>
    public static bool TryParse(string endpoint, out string host, out int port)
    {
        host = "";
        port = 0;
        if (!endpoint.StartsWith("tcp://", StringComparison.Ordinal))
        {
            return false;
        }

        var address = endpoint["tcp://".Length..];
        var colon = address.LastIndexOf(':');
        if (colon <= 0 || address.Contains(';', StringComparison.Ordinal) || address[0] == '*'
            || !int.TryParse(address.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port)
            || port is < 1 or > 65535)
        {
            return false;
        }

        host = address[..colon].TrimStart('[').TrimEnd(']');
        return host.Length > 0;
    }

    public bool HasPending => _connected && _outEnd > _outStart;

    public bool TryStartMessage(ref Msg frame, bool more)
    {
        if (_outEnd - _outStart > MaxPendingBytes)
        {
            return false;
        }

        SendMore(ref frame, more);
        return true;
    }

    public void SendMore(ref Msg frame, bool more)
    {
        var body = frame.Slice();
        WriteFrame(more ? More : (byte)0, body);
        frame.Close();
        frame.InitEmpty();
    }

    public bool TryReceive(ReceivedFrames frames)
    {
        while (_stage == Stage.Ready && _socket is not null)
        {
            // A whole message first (its last frame here), then its frames; commands between messages are handled on the way.
            var position = _inStart;
            var frameCount = 0;
            while (true)
            {
                var header = ReadHeader(position, out var flags, out var size);
                if (header < 0)
                {
                    Drop("a frame larger than the largest message allowed");
                    return false;
                }

                if (header == 0 || _inEnd - position - header < size)
                {
                    return false;
                }

                if ((flags & Command) != 0 && frameCount > 0)
                {
                    Drop("a command inside a message");
                    return false;
                }

                if ((flags & Command) != 0)
                {
                    OnCommand(_in.AsSpan(position + header, (int)size));
                    _inStart = position += header + (int)size;
                    if (_socket is null)
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

            frames.Clear();
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

    public void Flush()
    {
        // Nothing but the greeting leaves before the broker's greeting is read: libzmq closes a connection whose READY
        // (or anything after it) arrives with the greeting, before it sent its own.
        var socket = _socket;
        if (!_connected || socket is null || _stage == Stage.AwaitGreeting)
        {
            return;
        }

        while (_outStart < _outEnd)
        {
            var sent = socket.Send(_out, _outStart, _outEnd - _outStart, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                break;
            }

            if (error != SocketError.Success)
            {
                Drop("the connection failed while sending: " + error);
                return;
            }

            _outStart += sent;
        }

        if (_outStart == _outEnd)
        {
            _outStart = _outEnd = 0;
        }
    }

    public void Abandon()
    {
        _disposed = true;
        _socket?.Dispose();
        _socket = null;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        var socket = _socket;
        _socket = null;
        if (socket is null)
        {
            return;
        }

        if (_connected)
        {
            _loop.Remove(socket);
            LingerSend(socket);
        }

        socket.Dispose();
    }

    /// <summary>What is still unsent gets up to the linger time, as a ZeroMQ socket's; the kernel sends what it took after the close.</summary>
    private void LingerSend(Socket socket)
    {
        if (_outStart == _outEnd || _linger <= TimeSpan.Zero)
        {
            return;
        }

        try
        {
            socket.Blocking = true;
            socket.SendTimeout = (int)Math.Clamp(_linger.TotalMilliseconds, 1, int.MaxValue);
            while (_outStart < _outEnd)
            {
                _outStart += socket.Send(_out, _outStart, _outEnd - _outStart, SocketFlags.None);
            }
        }
        catch (SocketException)
        {
            // The broker is gone or does not read: what is left is lost, as with ZeroMQ past its linger.
        }
    }

    private void Connect()
    {
        if (_disposed)
        {
            return;
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        _socket = socket;
        socket.ConnectAsync(_host, _port).ContinueWith(
            static (task, state) =>
            {
                var (link, socket) = ((ZmtpLink, Socket))state!;
                try
                {
                    link._loop.Post(OnConnectAttempted, (link, socket, task));
                }
                catch (PigatoException)
                {
                    socket.Dispose(); // the loop stopped meanwhile
                }
            },
            (this, socket),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>On the loop: a connection attempt ended.</summary>
    private static void OnConnectAttempted(object? state)
    {
        var (link, socket, attempt) = ((ZmtpLink, Socket, Task))state!;
        if (socket != link._socket)
        {
            socket.Dispose(); // closed meanwhile
            return;
        }

        if (!attempt.IsCompletedSuccessfully)
        {
            // A refused or unreachable broker is tried again after the interval, with no event, as ZeroMQ does.
            Log.Transport(link._logger, link._endpoint, "connecting failed: " + attempt.Exception?.InnerException?.Message);
            socket.Dispose();
            link._socket = null;
            link.ScheduleReconnect();
            return;
        }

        socket.Blocking = false;
        link._connected = true;
        link._loop.Add(socket, link.OnReadable);
        link._events.Connected();
        if (socket.Send(Greeting, SocketFlags.None, out var error) != Greeting.Length || error != SocketError.Success)
        {
            link.Drop("the greeting could not be sent: " + error);
        }
    }

    private void OnReadable()
    {
        var socket = _socket;
        for (var reads = 0; reads < MaxReadsPerEvent && socket is not null && socket == _socket; reads++)
        {
            MakeRoomToRead();
            var room = _in.Length - _inEnd;
            var received = socket.Receive(_in, _inEnd, room, SocketFlags.None, out var error);
            if (error == SocketError.WouldBlock)
            {
                return;
            }

            if (error != SocketError.Success || received == 0)
            {
                Drop(received == 0 ? "the broker closed the connection" : "the connection failed: " + error);
                return;
            }

            _inEnd += received;
            if (!ReadHandshake())
            {
                return;
            }

            if (_stage == Stage.Ready)
            {
                _events.Received();
            }

            if (received < room)
            {
                break; // all the kernel had
            }
        }

        // The connection takes a bounded number of messages per turn: what it left is delivered after the work waiting,
        // since the socket will not say again that these bytes are here.
        if (socket == _socket && _stage == Stage.Ready && HasWholeMessage())
        {
            _loop.Post(static state => ((ZmtpLink)state!).OnReadable(), this);
        }
    }

    /// <summary>True when a whole message (or command) waits in what was read.</summary>
    private bool HasWholeMessage()
    {
        var position = _inStart;
        while (true)
        {
            var header = ReadHeader(position, out var flags, out var size);
            if (header <= 0 || _inEnd - position - header < size)
            {
                return header < 0;
            }

            position += header + (int)size;
            if ((flags & More) == 0)
            {
                return true;
            }
        }
    }

    /// <summary>The broker's greeting and READY; false when the link dropped or waits for more bytes.</summary>
    private bool ReadHandshake()
    {
        if (_stage == Stage.AwaitGreeting)
        {
            if (_inEnd - _inStart < GreetingSize)
            {
                return false;
            }

            var greeting = _in.AsSpan(_inStart, GreetingSize);
            if (greeting[0] != 0xFF || (greeting[9] & 1) != 1 || greeting[10] < 3)
            {
                Drop("the peer does not speak ZMTP 3");
                return false;
            }

            if (!greeting.Slice(12, 20).TrimEnd((byte)0).SequenceEqual("NULL"u8))
            {
                // A CURVE (or PLAIN) broker: the connection drops before any answer, which the connection reports as a failed handshake.
                Drop("the broker requires the " + Encoding.ASCII.GetString(greeting.Slice(12, 20).TrimEnd((byte)0)) + " security mechanism");
                return false;
            }

            _inStart += GreetingSize;
            _stage = Stage.AwaitReady;
            Prepend(_ready);
            Flush();
            if (_socket is null)
            {
                return false;
            }
        }

        if (_stage == Stage.AwaitReady)
        {
            var header = ReadHeader(_inStart, out var flags, out var size);
            if (header == 0 || (header > 0 && _inEnd - _inStart - header < size))
            {
                return false;
            }

            if (header < 0 || (flags & Command) == 0 || !IsCommand(_in.AsSpan(_inStart + header, (int)size), "READY"u8))
            {
                Drop("the broker did not complete the ZMTP handshake");
                return false;
            }

            _inStart += header + (int)size;
            _stage = Stage.Ready;
        }

        return true;
    }

    /// <summary>A command between messages: a heartbeat PING is answered (ZMTP 3.1), an ERROR drops the link, others are ignored.</summary>
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
            Drop("the broker sent a ZMTP ERROR");
        }
    }

    private static bool IsCommand(ReadOnlySpan<byte> body, ReadOnlySpan<byte> name) =>
        body.Length > name.Length && body[0] == name.Length && body.Slice(1, name.Length).SequenceEqual(name);

    /// <summary>
    /// The header of the frame at <paramref name="position"/>: its length in bytes, 0 while incomplete, -1 for a frame over
    /// the largest message allowed (the link drops: ZeroMQ's limit).
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

    /// <summary>Room at the end of the input before a read: what was taken goes, the rest moves to the front, a full buffer doubles.</summary>
    private void MakeRoomToRead()
    {
        if (_inStart == _inEnd)
        {
            _inStart = _inEnd = 0;
        }

        if (_inEnd < _in.Length)
        {
            return;
        }

        var target = _inStart == 0 ? new byte[_in.Length * 2] : _in;
        _in.AsSpan(_inStart, _inEnd - _inStart).CopyTo(target);
        _inEnd -= _inStart;
        _inStart = 0;
        _in = target;
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

    /// <summary>The connection failed or the broker broke the protocol: closed, reported when it was up, and made again after a pause.</summary>
    private void Drop(string reason)
    {
        Log.Transport(_logger, _endpoint, "connection dropped: " + reason);
        var socket = _socket;
        var wasConnected = _connected;
        _socket = null;
        if (socket is not null)
        {
            if (wasConnected)
            {
                _loop.Remove(socket);
            }

            socket.Dispose();
        }

        Restart();
        ScheduleReconnect();
        if (wasConnected)
        {
            _events.Disconnected();
        }
    }

    /// <summary>A fresh start: nothing read, nothing waiting to be sent.</summary>
    private void Restart()
    {
        _connected = false;
        _stage = Stage.AwaitGreeting;
        _inStart = _inEnd = 0;
        _outStart = _outEnd = 0;
    }

    /// <summary>Puts <paramref name="bytes"/> in front of what waits to be sent (READY goes before the messages sent meanwhile).</summary>
    private void Prepend(byte[] bytes)
    {
        var pending = _outEnd - _outStart;
        var target = pending + bytes.Length > _out.Length ? new byte[Math.Max(pending + bytes.Length, _out.Length * 2)] : new byte[_out.Length];
        bytes.CopyTo(target, 0);
        _out.AsSpan(_outStart, pending).CopyTo(target.AsSpan(bytes.Length));
        _out = target;
        _outStart = 0;
        _outEnd = bytes.Length + pending;
    }

    /// <summary>
    /// Connects again after the interval, from the thread pool's timer (a loop timer cannot be added or removed while the
    /// loop runs its timers); only the latest attempt scheduled runs, and none once the link is disposed.
    /// </summary>
    private void ScheduleReconnect()
    {
        if (_disposed)
        {
            return;
        }

        Task.Delay(ReconnectInterval).ContinueWith(
            static (_, state) =>
            {
                try
                {
                    (((ZmtpLink Link, int))state!).Link._loop.Post(static s =>
                    {
                        var (link, attempt) = ((ZmtpLink, int))s!;
                        if (attempt == link._attempts && !link._disposed && link._socket is null)
                        {
                            link.Connect();
                        }
                    }, state);
                }
                catch (PigatoException)
                {
                    // The loop stopped meanwhile: nothing to connect for.
                }
            },
            (this, ++_attempts),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Our greeting: ZMTP 3.0, NULL mechanism, as a client.</summary>
    private static readonly byte[] Greeting = MakeGreeting();

    private static byte[] MakeGreeting()
    {
        var greeting = new byte[GreetingSize];
        greeting[0] = 0xFF;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        "NULL"u8.CopyTo(greeting.AsSpan(12));
        return greeting;
    }

    /// <summary>Our READY command: a DEALER, with its identity.</summary>
    private static byte[] Ready(string identity)
    {
        var ready = new List<byte> { 5 };
        ready.AddRange("READY"u8.ToArray());
        Property(ready, "Socket-Type", "DEALER"u8);
        Property(ready, "Identity", Encoding.UTF8.GetBytes(identity));
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
