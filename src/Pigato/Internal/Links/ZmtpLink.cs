using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using NetMQ;
using Pigato.Internal.Links.Curve;

namespace Pigato.Internal.Links;

/// <summary>
/// A link that speaks ZMTP 3.0 (as a DEALER, in plain text or with CURVE) itself (<see cref="ZmtpSession"/>), on a plain TCP socket
/// the loop polls: the loop thread reads and writes the kernel's socket, with no I/O thread in between (NetMQ's adds a
/// thread wake-up each way per message; docs/performance.md has the numbers). Wire-compatible with any ZeroMQ ROUTER.
/// </summary>
/// <remarks>
/// What is sent before the connection is up waits in the session and leaves after the handshake; what was still unsent
/// when an established connection dropped goes with it (the connection's owner resends what the broker may not have, as
/// it does over NetMQ). A refused or unreachable broker is tried again every 100 ms, as ZeroMQ does, under the same
/// identity. The kernel takes what it can at every <see cref="Flush"/> (at the end of each loop callback); a new
/// message is refused past <see cref="MaxPendingBytes"/> so that the connection queues it (its bounded local queue).
/// </remarks>
internal sealed class ZmtpLink : IBrokerLink
{
    /// <summary>Bytes the kernel has not taken yet past which a new message is refused.</summary>
    public const int MaxPendingBytes = 4 << 20;

    /// <summary>Reads per readable event before other work gets a turn.</summary>
    private const int MaxReadsPerEvent = 16;

    /// <summary>How long one connection attempt may take (a broker's host that drops the packets, rather than refuses).</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The pause before connecting again, as NetMQ's default reconnect interval.</summary>
    private static readonly TimeSpan ReconnectInterval = TimeSpan.FromMilliseconds(100);

    private readonly string _endpoint;
    private readonly string _host;
    private readonly int _port;
    private readonly ActorLoop _loop;
    private readonly LinkEvents _events;
    private readonly ILogger _logger;
    private readonly TimeSpan _linger;
    private readonly ZmtpSettings _zmtp;
    private ZmtpSession _session;
    private int _attempts;
    private bool _connected;
    private bool _disposed;

    public ZmtpLink(string endpoint, string host, int port, string identity, ConnectionSettings settings, ActorLoop loop, LinkEvents events, ILogger logger)
    {
        _endpoint = endpoint;
        _host = host;
        _port = port;
        _loop = loop;
        _events = events;
        _logger = logger;
        _linger = settings.Linger;
        _zmtp = new ZmtpSettings(
            "DEALER",
            Encoding.UTF8.GetBytes(identity),
            settings.MaxMessageSize > 0 ? (long)settings.MaxMessageSize + SocketFactory.TransportSlack : int.MaxValue,
            settings.CurveServerKey is null ? null : CurveSettings.Client(settings.CurveServerKey));
        _session = NewSession();
        Connect();
    }

    public bool HasPending => _connected && _session.HasPending;

    public bool CopiesOnSend => true;

    public bool TryStartMessage(ref Msg frame, bool more)
    {
        if (_session.PendingBytes > ZmtpSession.WriteThroughBytes)
        {
            Flush(); // a long burst (a stream of partials) goes to the kernel as it is written, not only after the callback
        }

        if (_session.PendingBytes > MaxPendingBytes)
        {
            return false;
        }

        _session.Write(ref frame, more);
        return true;
    }

    public void SendMore(ref Msg frame, bool more) => _session.Write(ref frame, more);

    public bool TryReceive(ReceivedFrames frames)
    {
        frames.Clear();
        if (!_connected || _session.TryTakeMessage(frames))
        {
            return _connected;
        }

        if (_session.Failure is not null)
        {
            Drop();
        }

        return false;
    }

    public void Flush()
    {
        if (_connected && !_session.Flush())
        {
            Drop();
        }
    }

    public void Abandon()
    {
        _disposed = true;
        _session.Dispose();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_connected)
        {
            _loop.Remove(_session.Socket);
            _session.Linger(_linger);
        }

        _session.Dispose();
    }

    private ZmtpSession NewSession() => new(new Socket(SocketType.Stream, ProtocolType.Tcp), _zmtp);

    private void Connect()
    {
        if (_disposed)
        {
            return;
        }

        var session = _session;
        var (host, port) = (_host, _port);
        Task.Factory.StartNew(() => ConnectBlocking(session.Socket, host, port), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).ContinueWith(
            static (task, state) =>
            {
                var (link, session) = ((ZmtpLink, ZmtpSession))state!;
                try
                {
                    link._loop.Post(OnConnectAttempted, (link, session, task));
                }
                catch (PigatoException)
                {
                    session.Dispose(); // the loop stopped meanwhile
                }
            },
            (this, session),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>
    /// Connects with a blocking connect on a socket still blocking (the session makes it non-blocking once connected),
    /// not <see cref="Socket.ConnectAsync(string, int)"/>: a socket that ever ran an asynchronous operation stays
    /// registered with .NET's epoll thread, which then wakes for every message that arrives although the loop reads it
    /// itself (one thread wake-up per message received, measured with strace). It runs on a thread of its own, not the
    /// pool's: a broker whose host drops the packets holds it until <see cref="ConnectTimeout"/> cuts the attempt (its
    /// socket closed under it), attempt after attempt, which would starve the pool of the application's work.
    /// </summary>
    private static void ConnectBlocking(Socket socket, string host, int port)
    {
        using var cut = new Timer(static s => ((Socket)s!).Dispose(), socket, ConnectTimeout, Timeout.InfiniteTimeSpan);
        socket.Connect(host, port);
    }

    /// <summary>On the loop: a connection attempt ended.</summary>
    private static void OnConnectAttempted(object? state)
    {
        var (link, session, attempt) = ((ZmtpLink, ZmtpSession, Task))state!;
        if (session != link._session || link._disposed)
        {
            return; // disposed meanwhile
        }

        if (!attempt.IsCompletedSuccessfully)
        {
            Log.Transport(link._logger, link._endpoint, "connecting failed: " + attempt.Exception?.InnerException?.Message);
            link._session = link.NewSession();
            session.MoveUnsentTo(link._session);
            session.Dispose();
            link.ScheduleReconnect();
            return;
        }

        link._connected = true;
        link._loop.Add(session.Socket, link.OnReadable);
        link._events.Connected();
        if (!session.Start())
        {
            link.Drop();
        }
    }

    private void OnReadable()
    {
        var session = _session;
        for (var reads = 0; reads < MaxReadsPerEvent && _connected && session == _session; reads++)
        {
            var read = session.Read();
            if (read < 0)
            {
                Drop();
                return;
            }

            if (read == 0)
            {
                break;
            }

            if (session.IsReady)
            {
                _events.Received();
            }

            if (!session.BufferWasFilled)
            {
                break; // all the kernel had
            }
        }

        // The connection takes a bounded number of messages per turn: what it left is delivered after the work waiting,
        // since the socket will not say again that these bytes are here.
        if (_connected && session == _session && session.HasWholeMessage())
        {
            _loop.Post(static state => ((ZmtpLink)state!).OnReadable(), this);
        }
    }

    /// <summary>The connection failed or the broker broke the protocol: closed, reported, and made again after a pause.</summary>
    private void Drop()
    {
        var session = _session;
        Log.Transport(_logger, _endpoint, "connection dropped: " + (session.Failure ?? "closed"));
        var wasConnected = _connected;
        _connected = false;
        if (wasConnected)
        {
            _loop.Remove(session.Socket);
        }

        session.Dispose();
        _session = NewSession();
        ScheduleReconnect();
        if (wasConnected)
        {
            _events.Disconnected();
        }
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
                        if (attempt == link._attempts && !link._disposed && !link._connected)
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
}
