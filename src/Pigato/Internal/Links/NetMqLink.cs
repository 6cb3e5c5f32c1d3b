using NetMQ;
using NetMQ.Monitoring;
using NetMQ.Sockets;

namespace Pigato.Internal.Links;

/// <summary>
/// A link on NetMQ's DEALER: NetMQ's I/O thread reads and writes the TCP socket, a monitor reports the connection's
/// events. Used for CURVE, for endpoints other than tcp://, and when <see cref="ConnectionTransport.NetMQ"/> is chosen.
/// </summary>
internal sealed class NetMqLink : IBrokerLink
{
    private readonly ActorLoop _loop;
    private readonly DealerSocket _socket;
    private readonly NetMQMonitor _monitor;

    public NetMqLink(string endpoint, string identity, ConnectionSettings settings, ActorLoop loop, LinkEvents events)
    {
        _loop = loop;
        _socket = SocketFactory.Dealer(identity, settings);
        _socket.ReceiveReady += (_, _) => loop.Guard(events.Received);
        _monitor = new NetMQMonitor(_socket, $"inproc://pigato-monitor-{Guid.NewGuid():N}", SocketEvents.Connected | SocketEvents.Disconnected);
        _monitor.Connected += (_, _) => events.Connected();
        _monitor.Disconnected += (_, _) => events.Disconnected();
        loop.Attach(_monitor);
        _socket.Connect(endpoint);
        loop.Add(_socket);
    }

    public bool HasPending => false;

    public bool CopiesOnSend => false;

    public bool TryStartMessage(ref Msg frame, bool more) => _socket.TrySend(ref frame, TimeSpan.Zero, more);

    public void SendMore(ref Msg frame, bool more) => _socket.TrySend(ref frame, SendReceiveConstants.InfiniteTimeout, more);

    public bool TryReceive(ReceivedFrames frames) => frames.TryReceive(_socket);

    public void Flush()
    {
    }

    public void Abandon()
    {
        _monitor.Dispose();
        _socket.Dispose();
    }

    public void Dispose()
    {
        _monitor.DetachFromPoller();
        _monitor.Dispose();
        _loop.Remove(_socket);
        _socket.Dispose();
    }
}
