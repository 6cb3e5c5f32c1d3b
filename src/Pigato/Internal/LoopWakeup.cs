using System.Net;
using System.Net.Sockets;

namespace Pigato.Internal;

/// <summary>
/// How other threads wake an <see cref="ActorLoop"/>: a datagram socket on the loopback interface, connected to itself
/// (so that only its own datagrams reach it), which the loop's poller watches. A wake-up is one small datagram: no
/// TCP state, no NetMQ message and pipe (the NetMQ queue it replaces signalled through a TCP loopback connection and a
/// pipe, a few microseconds of CPU on each side for every request a caller or handler posted).
/// </summary>
internal sealed class LoopWakeup : IDisposable
{
    private static readonly byte[] Datagram = [1];
    private readonly byte[] _drain = new byte[16];

    public LoopWakeup()
    {
        Socket = Open(IPAddress.Loopback) ?? Open(IPAddress.IPv6Loopback)
            ?? throw new PigatoException(PigatoErrorCodes.NotRunning, "No loopback interface to wake the actor's loop through (neither 127.0.0.1 nor ::1).");
    }

    /// <summary>The socket the loop polls: readable while a wake-up waits.</summary>
    public Socket Socket { get; }

    /// <summary>Wakes the loop (any thread). Never blocks: should the socket's buffer be full, wake-ups already wait.</summary>
    public void Signal() => Socket.Send(Datagram, SocketFlags.None, out _);

    /// <summary>Takes every wake-up that waits (on the loop, before it runs the commands).</summary>
    public void Drain()
    {
        while (Socket.Receive(_drain, 0, _drain.Length, SocketFlags.None, out var error) > 0 && error == SocketError.Success)
        {
        }
    }

    public void Dispose() => Socket.Dispose();

    private static Socket? Open(IPAddress loopback)
    {
        var socket = new Socket(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(new IPEndPoint(loopback, 0));
            socket.Connect(socket.LocalEndPoint!);
            socket.Blocking = false;
            return socket;
        }
        catch (SocketException)
        {
            socket.Dispose();
            return null;
        }
    }
}
