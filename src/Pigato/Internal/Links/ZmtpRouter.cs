using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using NetMQ;
using Pigato.Routing;

namespace Pigato.Internal.Links;

/// <summary>
/// The broker's connections on Pigato's own ZMTP 3.0 (as a ROUTER, plain or CURVE): a listening socket and one
/// <see cref="ZmtpSession"/> per peer, all polled by the broker's loop, whose thread reads and writes the kernel's sockets
/// with no I/O thread in between. Peers are known by the identity their READY gives (a fresh one when empty, as libzmq
/// does); a new connection under an identity already connected takes it over (ZeroMQ's ROUTER handover), the old one
/// is closed. Messages are taken one per peer in turn, so that one busy peer cannot starve the others.
/// </summary>
internal sealed class ZmtpRouter : IRouterLink
{
    /// <summary>Bytes one peer's connection may hold unsent before it counts as behind (the broker's own per-peer queue takes over).</summary>
    public const int MaxPendingBytesPerPeer = 4 << 20;

    private const int MaxReadsPerEvent = 16;

    /// <summary>How long a connection may take to complete its handshake (libzmq's default ZMQ_HANDSHAKE_IVL) before it is closed.</summary>
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(30);
    private const int MaxAcceptsPerEvent = 64;

    private readonly Socket _listener;
    private readonly ActorLoop _loop;
    private readonly Action _received;
    private readonly ILogger _logger;
    private readonly TimeSpan _linger;
    private readonly ZmtpSettings _zmtp;
    private readonly Dictionary<string, ZmtpSession> _peers = new(StringComparer.Ordinal);
    private readonly Dictionary<ZmtpSession, byte[]> _identities = [];
    private readonly HashSet<ZmtpSession> _sessions = [];
    private readonly Queue<ZmtpSession> _readable = new();
    private readonly HashSet<ZmtpSession> _inReadable = [];
    private readonly HashSet<ZmtpSession> _unflushed = [];
    private readonly List<ZmtpSession> _flushed = [];

    /// <summary>Connections still in their handshake, with when they were accepted.</summary>
    private readonly Dictionary<ZmtpSession, long> _handshaking = [];
    private ZmtpSession? _target;
    private bool _redeliveryPosted;

    private ZmtpRouter(Socket listener, string endpoint, ActorLoop loop, Action received, ZmtpSettings zmtp, TimeSpan linger, ILogger logger)
    {
        _listener = listener;
        Endpoint = endpoint;
        _loop = loop;
        _received = received;
        _zmtp = zmtp;
        _linger = linger;
        _logger = logger;
        loop.Add(listener, AcceptWaiting);
        loop.Timer(HandshakeTimeout / 6, CloseStalledHandshakes);
    }

    public string Endpoint { get; }

    public bool HasPending => _unflushed.Count > 0;

    public bool CopiesOnSend => true;

    /// <summary>
    /// True for an endpoint <see cref="TryBind"/> binds (<c>tcp://ADDRESS:PORT</c>).
    /// </summary>
    public static bool CanBind(string endpoint) => TcpEndpoint.TryParse(endpoint, binding: true, out _, out _);

    /// <summary>
    /// Binds a <c>tcp://ADDRESS:PORT</c> endpoint (an IP address, <c>*</c> for every interface, or <c>localhost</c>; port 0
    /// for one the system picks); null for any other endpoint (NetMQ's ROUTER serves those).
    /// </summary>
    /// <exception cref="SocketException">The address cannot be bound (in use, not local).</exception>
    public static ZmtpRouter? TryBind(string endpoint, ActorLoop loop, Action received, ZmtpSettings zmtp, TimeSpan linger, ILogger logger)
    {
        if (!TcpEndpoint.TryParse(endpoint, binding: true, out var host, out var port))
        {
            return null;
        }

        IPAddress address;
        if (host == "*")
        {
            address = IPAddress.Any;
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(host, out address!))
        {
            return null;
        }

        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(address, port));
            listener.Listen(1024);
            listener.Blocking = false;
            var bound = (IPEndPoint)listener.LocalEndPoint!;
            return new ZmtpRouter(listener, TcpEndpoint.Format(bound.Address, bound.Port), loop, received, zmtp, linger, logger);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    public RouteResult TryStartMessage(ref Msg identity, bool more)
    {
        if (!PeerKey.TryGet(_peers, identity.Slice(), out var session))
        {
            return RouteResult.Unreachable;
        }

        if (session.PendingBytes > ZmtpSession.WriteThroughBytes && !session.Flush())
        {
            // A long burst goes to the kernel as it is written; a connection that fails meanwhile is gone.
            Close(session);
            return RouteResult.Unreachable;
        }

        if (session.PendingBytes > MaxPendingBytesPerPeer)
        {
            return RouteResult.Full;
        }

        // The identity only routes: it is not sent.
        identity.Close();
        identity.InitEmpty();
        _target = session;
        _unflushed.Add(session);
        return RouteResult.Started;
    }

    public void SendMore(ref Msg frame, bool more)
    {
        if (_target is { } session)
        {
            session.Write(ref frame, more);
        }
        else
        {
            frame.Close();
            frame.InitEmpty();
        }

        if (!more)
        {
            _target = null;
        }
    }

    public bool TryReceive(ReceivedFrames frames, TimeSpan wait = default)
    {
        if (TryTake(frames))
        {
            return true;
        }

        if (wait <= TimeSpan.Zero || _sessions.Count == 0)
        {
            return false;
        }

        // The broker drains what still arrives while it stops: one wait on every connection, then what came.
        var sockets = _sessions.Select(s => s.Socket).ToList();
        Socket.Select(sockets, null, null, (int)Math.Min(int.MaxValue, wait.TotalMicroseconds));
        foreach (var session in _sessions.Where(s => sockets.Contains(s.Socket)).ToList())
        {
            ReadFrom(session);
        }

        return TryTake(frames);
    }

    public void Flush()
    {
        if (_unflushed.Count == 0)
        {
            return;
        }

        // Sent in full, or failed (closed below): either way no longer waiting. The list is kept: this runs after every callback.
        _flushed.Clear();
        foreach (var session in _unflushed)
        {
            if (!session.Flush() || !session.HasPending)
            {
                _flushed.Add(session);
            }
        }

        foreach (var session in _flushed)
        {
            _unflushed.Remove(session);
            if (session.Failure is not null)
            {
                Close(session);
            }
        }
    }

    public string? AddressOf(ReadOnlySpan<byte> identity) =>
        PeerKey.TryGet(_peers, identity, out var session) ? AddressOf(session) : null;

    /// <summary>Closes every connection (what is unsent gets the linger time between them) once the loop has stopped.</summary>
    public void Dispose()
    {
        _listener.Dispose();
        var lingerEach = _sessions.Count == 0 ? TimeSpan.Zero : _linger / _sessions.Count;
        foreach (var session in _sessions)
        {
            session.Linger(lingerEach);
            session.Dispose();
        }

        _sessions.Clear();
        _peers.Clear();
        _identities.Clear();
    }

    private static string? AddressOf(ZmtpSession session)
    {
        try
        {
            return session.Socket.RemoteEndPoint?.ToString();
        }
        catch (ObjectDisposedException)
        {
            return null;
        }
    }

    private void AcceptWaiting()
    {
        for (var i = 0; i < MaxAcceptsPerEvent; i++)
        {
            Socket socket;
            try
            {
                socket = _listener.Accept();
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.WouldBlock)
            {
                return;
            }
            catch (SocketException e)
            {
                var why = "accepting a connection failed: " + e.SocketErrorCode;
                Log.Transport(_logger, Endpoint, why);
                return;
            }

            var session = new ZmtpSession(socket, _zmtp);
            _sessions.Add(session);
            _handshaking.Add(session, System.Diagnostics.Stopwatch.GetTimestamp());
            _loop.Add(socket, () => OnReadable(session));
            if (!session.Start())
            {
                Close(session);
            }
        }
    }

    private void OnReadable(ZmtpSession session)
    {
        ReadFrom(session);
        if (_readable.Count > 0)
        {
            _received();
            PostRedeliveryIfLeft();
        }
    }

    /// <summary>Reads what a connection has; registers its identity once its READY is read; queues it when a whole message waits.</summary>
    private void ReadFrom(ZmtpSession session)
    {
        for (var reads = 0; reads < MaxReadsPerEvent && _sessions.Contains(session); reads++)
        {
            var wasReady = session.IsReady;
            var read = session.Read();
            if (read < 0)
            {
                Close(session);
                return;
            }

            if (!wasReady && session.IsReady)
            {
                Register(session);
            }

            if (session.HasPending)
            {
                _unflushed.Add(session); // a PONG, or READY after the greeting
            }

            if (read == 0 || !session.BufferWasFilled)
            {
                break;
            }
        }

        if (_sessions.Contains(session) && session.HasWholeMessage() && _inReadable.Add(session))
        {
            _readable.Enqueue(session);
        }
    }

    /// <summary>A peer's READY was read: it is routed by the identity it gave (or a fresh one), taking it over from an older connection.</summary>
    private void Register(ZmtpSession session)
    {
        var identity = session.PeerIdentity.Length > 0 ? session.PeerIdentity : FreshIdentity();
        var key = PeerKey.Of(identity);
        if (_peers.TryGetValue(key, out var older) && older != session)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                var what = $"a new connection from {AddressOf(session)} takes over identity '{Utf8.Decode(identity)}' from {AddressOf(older)}";
                Log.Transport(_logger, Endpoint, what);
            }

            Close(older);
        }

        _peers[key] = session;
        _identities[session] = identity;
        _handshaking.Remove(session);
    }

    /// <summary>Closes the connections that did not complete their handshake in time: an idle connection cannot hold a socket and its buffers for ever.</summary>
    private void CloseStalledHandshakes()
    {
        if (_handshaking.Count == 0)
        {
            return;
        }

        var stalled = _handshaking.Where(c => System.Diagnostics.Stopwatch.GetElapsedTime(c.Value) > HandshakeTimeout).Select(c => c.Key).ToList();
        foreach (var session in stalled)
        {
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                var what = $"connection from {AddressOf(session)} closed: no handshake within {HandshakeTimeout.TotalSeconds:0} s";
                Log.Transport(_logger, Endpoint, what);
            }

            Close(session);
        }
    }

    /// <summary>A routing id for a peer that gave none: a zero byte and four random ones, as libzmq makes.</summary>
    private static byte[] FreshIdentity()
    {
        var identity = new byte[5];
        Random.Shared.NextBytes(identity.AsSpan(1));
        return identity;
    }

    /// <summary>The next whole message, one per peer in turn, with its peer's identity first.</summary>
    private bool TryTake(ReceivedFrames frames)
    {
        while (_readable.TryDequeue(out var session))
        {
            if (!_sessions.Contains(session) || !_identities.TryGetValue(session, out var identity))
            {
                _inReadable.Remove(session);
                continue;
            }

            frames.Clear();
            frames.Borrow(identity, 0, identity.Length);
            if (session.TryTakeMessage(frames))
            {
                if (session.HasWholeMessage())
                {
                    _readable.Enqueue(session);
                }
                else
                {
                    _inReadable.Remove(session);
                }

                if (session.HasPending)
                {
                    _unflushed.Add(session);
                }

                return true;
            }

            _inReadable.Remove(session);
            frames.Clear();
            if (session.Failure is not null)
            {
                Close(session);
            }
        }

        return false;
    }

    /// <summary>
    /// The broker takes a bounded number of messages per turn: what it left is delivered after the work waiting, since
    /// the sockets will not say again that these bytes are here.
    /// </summary>
    private void PostRedeliveryIfLeft()
    {
        if (_readable.Count == 0 || _redeliveryPosted)
        {
            return;
        }

        _redeliveryPosted = true;
        _loop.Post(static state =>
        {
            var router = (ZmtpRouter)state!;
            router._redeliveryPosted = false;
            if (router._readable.Count > 0)
            {
                router._received();
                router.PostRedeliveryIfLeft();
            }
        }, this);
    }

    /// <summary>A connection ended (the peer closed it, broke the protocol, or was taken over): forgotten, like a dropped pipe.</summary>
    private void Close(ZmtpSession session)
    {
        if (!_sessions.Remove(session))
        {
            return;
        }

        if (session.Failure is { } why && _logger.IsEnabled(LogLevel.Debug))
        {
            var what = $"connection from {AddressOf(session)} closed: {why}";
            Log.Transport(_logger, Endpoint, what);
        }

        if (_identities.Remove(session, out var identity) && PeerKey.TryGet(_peers, identity, out var current) && current == session)
        {
            _peers.Remove(PeerKey.Of(identity));
        }

        _unflushed.Remove(session);
        _inReadable.Remove(session);
        _handshaking.Remove(session);
        if (_target == session)
        {
            _target = null;
        }

        _loop.Remove(session.Socket);
        session.Dispose();
    }
}
