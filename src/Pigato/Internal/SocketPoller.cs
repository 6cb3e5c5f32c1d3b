using System.Diagnostics;
using System.Net.Sockets;

namespace Pigato.Internal;

/// <summary>
/// How an <see cref="ActorLoop"/> without NetMQ sockets waits: one call over its plain sockets (Pigato's own transport, the
/// loop's wake-up), for as long as its next timer allows: <c>epoll_wait</c> on Linux (<see cref="EpollSet"/>: the cost of
/// a wait does not grow with the connections), <see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>
/// elsewhere. NetMQPoller, which a loop with NetMQ sockets needs, also checks its own NetMQ mailboxes and waits in three
/// steps: six poll calls per wait where this makes one. Loop thread only.
/// </summary>
internal sealed class SocketPoller : IDisposable
{
    private readonly Dictionary<Socket, Action> _watched = [];
    private readonly List<Socket> _ready = [];
    private readonly EpollSet? _epoll = EpollSet.TryCreate();

    /// <summary>Watches <paramref name="socket"/>: <paramref name="onReadable"/> runs whenever it has bytes (or an error) to read.</summary>
    public void Add(Socket socket, Action onReadable)
    {
        _epoll?.Watch(socket);
        _watched[socket] = onReadable;
    }

    public void Remove(Socket socket)
    {
        if (_watched.Remove(socket))
        {
            _epoll?.Forget(socket);
        }
    }

    public void Dispose() => _epoll?.Dispose();

    /// <summary>
    /// Waits until a watched socket is readable or <paramref name="deadline"/> (a <see cref="Stopwatch"/> timestamp;
    /// <see cref="long.MaxValue"/>: none; one that passed: no wait) passes; <see cref="Dispatch"/> then runs their callbacks.
    /// </summary>
    public void Wait(long deadline)
    {
        _ready.Clear();
        if (_epoll is not null)
        {
            _epoll.Wait(Milliseconds(deadline), _ready);
            return;
        }

        _ready.AddRange(_watched.Keys);
        try
        {
            var milliseconds = Milliseconds(deadline);
            Socket.Select(_ready, null, null, milliseconds < 0 ? -1 : milliseconds * 1000);
        }
        catch (ObjectDisposedException)
        {
            // A socket closed without being removed: forget it, and wait again on the others.
            foreach (var closed in _watched.Keys.Where(s => s.SafeHandle.IsClosed).ToList())
            {
                _watched.Remove(closed);
            }

            _ready.Clear();
        }
    }

    /// <summary>Runs the callbacks of the sockets the last <see cref="Wait"/> found readable and still watched.</summary>
    public void Dispatch()
    {
        foreach (var socket in _ready)
        {
            // A callback before this one may have removed it.
            if (_watched.TryGetValue(socket, out var onReadable))
            {
                onReadable();
            }
        }
    }

    /// <summary>The wait in milliseconds, rounded up (poll's unit: rounding down would spin before a timer); -1 for none.</summary>
    private static int Milliseconds(long deadline)
    {
        if (deadline == long.MaxValue)
        {
            return -1;
        }

        var remaining = deadline - Stopwatch.GetTimestamp();
        if (remaining <= 0)
        {
            return 0;
        }

        return (int)Math.Min(int.MaxValue / 1000, (remaining * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
    }
}
