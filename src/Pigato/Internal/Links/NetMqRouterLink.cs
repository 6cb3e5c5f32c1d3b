using NetMQ;
using NetMQ.Sockets;

namespace Pigato.Internal.Links;

/// <summary>The broker's connections on NetMQ's ROUTER (RouterMandatory): for CURVE, other schemes, and <see cref="ConnectionTransport.NetMQ"/>.</summary>
internal sealed class NetMqRouterLink : IRouterLink
{
    private readonly RouterSocket _router;

    /// <summary>Binds <paramref name="router"/> to <paramref name="endpoint"/>; the socket is disposed when that fails.</summary>
    public NetMqRouterLink(RouterSocket router, string endpoint)
    {
        _router = router;
        try
        {
            _router.Bind(endpoint);
        }
        catch
        {
            router.Dispose();
            throw;
        }

        Endpoint = _router.Options.LastEndpoint!;
    }

    public string Endpoint { get; }

    public bool HasPending => false;

    public bool CopiesOnSend => false;

    /// <summary>The socket, for the loop to poll (its ReceiveReady is the link's "messages arrived").</summary>
    public RouterSocket Socket => _router;

    public RouteResult TryStartMessage(ref Msg identity, bool more)
    {
        try
        {
            return _router.TrySend(ref identity, TimeSpan.Zero, more) ? RouteResult.Started : RouteResult.Full;
        }
        catch (HostUnreachableException)
        {
            return RouteResult.Unreachable;
        }
    }

    public void SendMore(ref Msg frame, bool more) => _router.TrySend(ref frame, SendReceiveConstants.InfiniteTimeout, more);

    public bool TryReceive(ReceivedFrames frames, TimeSpan wait = default) => frames.TryReceive(_router, wait);

    public void Flush()
    {
    }

    public string? AddressOf(ReadOnlySpan<byte> identity) => null;

    public void Dispose() => _router.Dispose();
}
