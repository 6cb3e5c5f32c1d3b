using System.Net;
using System.Text;
using NetMQ;
using NetMQ.Sockets;
using Pigato.TestUtilities;

namespace Pigato.Perf.Roles;

/// <summary>
/// A raw peer's DEALER, on one of two transports: <c>netmq</c> (NetMQ's socket: its I/O thread reads and writes the TCP
/// socket, the caller reaches it through a pipe and a mailbox) or <c>zmtp</c> (ZMTP 3.0 on a plain TCP socket the
/// caller's thread reads and writes itself: what NetMQ's threads cost, measured against the same broker).
/// </summary>
internal sealed class RawDealer : IDisposable
{
    private readonly DealerSocket? _netmq;
    private readonly ZmtpDealer? _zmtp;

    private RawDealer(DealerSocket? netmq, ZmtpDealer? zmtp)
    {
        _netmq = netmq;
        _zmtp = zmtp;
    }

    /// <summary>Connects to <paramref name="endpoint"/> (tcp://HOST:PORT) over <paramref name="transport"/> as a fresh identity.</summary>
    public static RawDealer Connect(string endpoint, string transport)
    {
        var identity = "raw-" + Guid.NewGuid().ToString("N");
        if (transport == "zmtp")
        {
            var address = new Uri(endpoint.Replace("tcp://", "http://", StringComparison.Ordinal));
            return new RawDealer(null, ZmtpDealer.Connect(new IPEndPoint(IPAddress.Parse(address.Host), address.Port), identity));
        }

        var socket = new DealerSocket();
        socket.Options.Identity = Encoding.UTF8.GetBytes(identity);
        socket.Options.SendHighWatermark = 0;
        socket.Connect(endpoint);
        return new RawDealer(socket, null);
    }

    /// <summary>Sends one message.</summary>
    public void Send(params byte[][] frames)
    {
        if (_zmtp is not null)
        {
            _zmtp.Send(frames);
            return;
        }

        for (var i = 0; i < frames.Length - 1; i++)
        {
            _netmq!.SendMoreFrame(frames[i]);
        }

        _netmq!.SendFrame(frames[^1]);
    }

    /// <summary>The next message into <paramref name="frames"/>; false when none came within <paramref name="timeout"/>.</summary>
    public bool TryReceive(TimeSpan timeout, ref List<byte[]> frames) =>
        _zmtp?.TryReceive(timeout, frames) ?? _netmq!.TryReceiveMultipartBytes(timeout, ref frames!);

    public void Dispose()
    {
        _netmq?.Dispose();
        _zmtp?.Dispose();
    }
}
