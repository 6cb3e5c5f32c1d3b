using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pigato.TestUtilities;

/// <summary>
/// A DEALER speaking ZMTP 3.0 (NULL mechanism) over a plain TCP socket, without NetMQ: one file descriptor and no
/// NetMQ socket per identity (the stress tool plays ten thousand workers with it), and no I/O thread between the
/// caller and the kernel (the benchmark measures what NetMQ's threads cost with it). Async or blocking; one caller at a time.
/// </summary>
public sealed class ZmtpDealer : IDisposable
{
    private const byte More = 0x01;
    private const byte Long = 0x02;
    private const byte Command = 0x04;

    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private ZmtpDealer()
    {
    }

    /// <summary>Connects to a ZeroMQ ROUTER at <paramref name="endpoint"/> as <paramref name="identity"/> and completes the handshake.</summary>
    public static async Task<ZmtpDealer> ConnectAsync(IPEndPoint endpoint, string identity, CancellationToken cancellationToken)
    {
        var dealer = new ZmtpDealer();
        try
        {
            await dealer._socket.ConnectAsync(endpoint, cancellationToken);
            await dealer._socket.SendAsync(Greeting(), cancellationToken);
            await dealer._socket.SendAsync(Ready(identity), cancellationToken);
            await dealer.ExpectHandshakeAsync(cancellationToken);
            return dealer;
        }
        catch
        {
            dealer.Dispose();
            throw;
        }
    }

    /// <summary>The blocking <see cref="ConnectAsync"/>.</summary>
    public static ZmtpDealer Connect(IPEndPoint endpoint, string identity) =>
        ConnectAsync(endpoint, identity, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Sends one message (its frames as UTF-8 text).</summary>
    public async Task SendAsync(CancellationToken cancellationToken, params string[] frames) =>
        await _socket.SendAsync(Encode(frames.Select(Encoding.UTF8.GetBytes).ToArray()), cancellationToken);

    /// <summary>Sends one message, blocking until the kernel took it.</summary>
    public void Send(params byte[][] frames)
    {
        var message = Encode(frames);
        for (var sent = 0; sent < message.Length;)
        {
            sent += _socket.Send(message, sent, message.Length - sent, SocketFlags.None);
        }
    }

    /// <summary>The next message (commands such as heartbeats skipped), as UTF-8 text frames.</summary>
    public async Task<string[]> ReceiveAsync(CancellationToken cancellationToken)
    {
        var frames = new List<byte[]>();
        while (!TryTakeMessage(frames))
        {
            await FillAsync(cancellationToken);
        }

        return frames.Select(Encoding.UTF8.GetString).ToArray();
    }

    /// <summary>Blocks for the next message (commands skipped) into <paramref name="frames"/>; false when none came within <paramref name="timeout"/>.</summary>
    public bool TryReceive(TimeSpan timeout, List<byte[]> frames)
    {
        while (!TryTakeMessage(frames))
        {
            if (!_socket.Poll(timeout, SelectMode.SelectRead))
            {
                return false;
            }

            Compact();
            Fill(_socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None));
        }

        return true;
    }

    public void Dispose() => _socket.Dispose();

    private static byte[] Greeting()
    {
        var greeting = new byte[64];
        greeting[0] = 0xFF;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        "NULL"u8.CopyTo(greeting.AsSpan(12));
        return greeting;
    }

    private static byte[] Ready(string identity)
    {
        using var ready = new MemoryStream();
        ready.WriteByte(5);
        ready.Write("READY"u8);
        Property(ready, "Socket-Type", "DEALER");
        Property(ready, "Identity", identity);
        var body = ready.ToArray();
        return [Command, (byte)body.Length, .. body];
    }

    private static void Property(MemoryStream stream, string name, string value)
    {
        var valueBytes = Encoding.UTF8.GetBytes(value);
        stream.WriteByte((byte)name.Length);
        stream.Write(Encoding.ASCII.GetBytes(name));
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, valueBytes.Length);
        stream.Write(size);
        stream.Write(valueBytes);
    }

    private static byte[] Encode(byte[][] frames)
    {
        using var message = new MemoryStream();
        Span<byte> size = stackalloc byte[8];
        for (var i = 0; i < frames.Length; i++)
        {
            var more = i < frames.Length - 1 ? More : (byte)0;
            if (frames[i].Length > 255)
            {
                message.WriteByte((byte)(more | Long));
                BinaryPrimitives.WriteUInt64BigEndian(size, (ulong)frames[i].Length);
                message.Write(size);
            }
            else
            {
                message.WriteByte(more);
                message.WriteByte((byte)frames[i].Length);
            }

            message.Write(frames[i]);
        }

        return message.ToArray();
    }

    /// <summary>The peer's greeting (64 bytes) and its READY command.</summary>
    private async Task ExpectHandshakeAsync(CancellationToken cancellationToken)
    {
        while (_end - _start < 64)
        {
            await FillAsync(cancellationToken);
        }

        _start += 64;
        byte flags;
        while (!TryTakeFrame(out flags, out _))
        {
            await FillAsync(cancellationToken);
        }

        if ((flags & Command) == 0)
        {
            throw new InvalidOperationException("The peer did not answer the ZMTP handshake with READY.");
        }
    }

    /// <summary>Takes one whole message from what was read, commands skipped; false (nothing taken) until all of it is here.</summary>
    private bool TryTakeMessage(List<byte[]> frames)
    {
        frames.Clear();
        var start = _start;
        while (TryTakeFrame(out var flags, out var body))
        {
            if ((flags & Command) != 0)
            {
                start = _start;
                continue;
            }

            frames.Add(body);
            if ((flags & More) == 0)
            {
                return true;
            }
        }

        _start = start;
        frames.Clear();
        return false;
    }

    private bool TryTakeFrame(out byte flags, out byte[] body)
    {
        var available = _buffer.AsSpan(_start, _end - _start);
        flags = 0;
        body = [];
        if (available.Length < 2)
        {
            return false;
        }

        flags = available[0];
        var header = (flags & Long) != 0 ? 9 : 2;
        if (available.Length < header)
        {
            return false;
        }

        var size = header == 9 ? checked((int)BinaryPrimitives.ReadUInt64BigEndian(available[1..])) : available[1];
        if (available.Length < header + size)
        {
            return false;
        }

        body = available.Slice(header, size).ToArray();
        _start += header + size;
        return true;
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        Compact();
        Fill(await _socket.ReceiveAsync(_buffer.AsMemory(_end), cancellationToken));
    }

    private void Fill(int received)
    {
        if (received == 0)
        {
            throw new IOException("The peer closed the connection.");
        }

        _end += received;
    }

    /// <summary>
    /// Makes room at the end of the buffer before a read: what was taken is dropped, unread bytes move to the front,
    /// and a buffer full of one unfinished message doubles.
    /// </summary>
    private void Compact()
    {
        if (_end < _buffer.Length)
        {
            return;
        }

        var target = _start == 0 ? new byte[_buffer.Length * 2] : _buffer;
        _buffer.AsSpan(_start, _end - _start).CopyTo(target);
        _end -= _start;
        _start = 0;
        _buffer = target;
    }
}
