using System.Diagnostics;
using System.Net.Sockets;

namespace Pigato.Internal;

/// <summary>
/// How an <see cref="ActorLoop"/> without NetMQ sockets waits: one <see cref="Socket.Select(System.Collections.IList, System.Collections.IList, System.Collections.IList, int)"/>
/// over its plain sockets (Pigato's own transport, the loop's wake-up), for as long as its next timer allows. NetMQPoller,
/// which a loop with NetMQ sockets needs, also checks its own NetMQ mailboxes and waits in three steps: six poll calls per
/// wait where this makes one. Loop thread only.
/// </summary>
internal sealed class SocketPoller
{
    private readonly Dictionary<Socket, Action> _watched = [];
    private readonly List<Socket> _ready = [];

    /// <summary>Watches <paramref name="socket"/>: <paramref name="onReadable"/> runs whenever it has bytes (or an error) to read.</summary>
    public void Add(Socket socket, Action onReadable) => _watched[socket] = onReadable;

    public void Remove(Socket socket) => _watched.Remove(socket);

    /// <summary>
    /// Waits until a watched socket is readable or <paramref name="deadline"/> (a <see cref="Stopwatch"/> timestamp;
    /// <see cref="long.MaxValue"/>: none; one that passed: no wait) passes; <see cref="Dispatch"/> then runs their callbacks.
    /// </summary>
    public void Wait(long deadline)
    {
        _ready.Clear();
        _ready.AddRange(_watched.Keys);
        try
        {
            Socket.Select(_ready, null, null, Microseconds(deadline));
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

    /// <summary>The wait in microseconds, rounded up to whole milliseconds (poll's unit: rounding down would spin before a timer); -1 for none.</summary>
    private static int Microseconds(long deadline)
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

        var milliseconds = Math.Min(int.MaxValue / 1000, (remaining * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency);
        return (int)milliseconds * 1000;
    }
}
