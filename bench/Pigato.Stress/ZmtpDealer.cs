using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Pigato.Stress;

/// <summary>
/// A DEALER speaking ZMTP 3.0 (NULL mechanism) over a plain TCP socket: one file descriptor and no NetMQ socket per
/// identity, so that one process can play ten thousand workers.
/// </summary>
internal sealed class ZmtpDealer : IDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public static async Task<ZmtpDealer> ConnectAsync(IPEndPoint endpoint, string identity, CancellationToken cancellationToken)
    {
        var dealer = new ZmtpDealer();
        try
        {
            await dealer._socket.ConnectAsync(endpoint, cancellationToken);
            await dealer.HandshakeAsync(identity, cancellationToken);
            return dealer;
        }
        catch
        {
            dealer.Dispose();
            throw;
        }
    }

    /// <summary>Sends one message (its frames as UTF-8 text).</summary>
    public async Task SendAsync(CancellationToken cancellationToken, params string[] frames)
    {
        using var message = new MemoryStream();
        var size = new byte[8];
        for (var i = 0; i < frames.Length; i++)
        {
            var body = Encoding.UTF8.GetBytes(frames[i]);
            var more = i < frames.Length - 1 ? (byte)0x01 : (byte)0x00;
            if (body.Length > 255)
            {
                message.WriteByte((byte)(more | 0x02));
                BinaryPrimitives.WriteUInt64BigEndian(size, (ulong)body.Length);
                message.Write(size);
            }
            else
            {
                message.WriteByte(more);
                message.WriteByte((byte)body.Length);
            }

            message.Write(body);
        }

        await _socket.SendAsync(message.ToArray(), cancellationToken);
    }

    /// <summary>The next message (commands such as heartbeats skipped), as UTF-8 text frames.</summary>
    public async Task<string[]> ReceiveAsync(CancellationToken cancellationToken)
    {
        var frames = new List<string>();
        while (true)
        {
            var (flags, body) = await ReadFrameAsync(cancellationToken);
            if ((flags & 0x04) != 0)
            {
                continue;
            }

            frames.Add(Encoding.UTF8.GetString(body));
            if ((flags & 0x01) == 0)
            {
                return [.. frames];
            }
        }
    }

    public void Dispose() => _socket.Dispose();

    private async Task HandshakeAsync(string identity, CancellationToken cancellationToken)
    {
        var greeting = new byte[64];
        greeting[0] = 0xFF;
        greeting[9] = 0x7F;
        greeting[10] = 3;
        "NULL"u8.CopyTo(greeting.AsSpan(12));
        await _socket.SendAsync(greeting, cancellationToken);
        await ReadExactlyAsync(64, cancellationToken);

        using var ready = new MemoryStream();
        ready.WriteByte(5);
        ready.Write("READY"u8);
        Property(ready, "Socket-Type", "DEALER");
        Property(ready, "Identity", identity);
        var body = ready.ToArray();
        await _socket.SendAsync((byte[])[0x04, (byte)body.Length, .. body], cancellationToken);
        var (flags, _) = await ReadFrameAsync(cancellationToken);
        if ((flags & 0x04) == 0)
        {
            throw new InvalidOperationException("The broker did not answer the ZMTP handshake with READY.");
        }
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

    private async Task<(byte Flags, byte[] Body)> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var flags = (await ReadExactlyAsync(1, cancellationToken))[0];
        var size = (flags & 0x02) != 0
            ? (int)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8, cancellationToken))
            : (await ReadExactlyAsync(1, cancellationToken))[0];
        return (flags, await ReadExactlyAsync(size, cancellationToken));
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        var filled = 0;
        while (filled < count)
        {
            if (_start == _end)
            {
                _start = 0;
                _end = await _socket.ReceiveAsync(_buffer, cancellationToken);
                if (_end == 0)
                {
                    throw new IOException("The broker closed the connection.");
                }
            }

            var take = Math.Min(count - filled, _end - _start);
            _buffer.AsSpan(_start, take).CopyTo(result.AsSpan(filled));
            _start += take;
            filled += take;
        }

        return result;
    }
}
