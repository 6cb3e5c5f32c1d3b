using System.Diagnostics;

namespace Pigato.Internal;

/// <summary>
/// One thread per process that looks, every <see cref="Tick"/>, at the loops running user code on their own thread
/// (<see cref="ActorLoop.TryRunAfter"/>) and moves a loop held longer than <see cref="ActorLoop.HoldLimit"/> to a new
/// thread (<see cref="ActorLoop.CheckHeld"/>). It sleeps without a tick while no loop has run user code since it last
/// looked, and the next loop to run some wakes it.
/// </summary>
internal static class LoopWatchdog
{
    /// <summary>How often it looks while loops run user code.</summary>
    public static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(5);

    private static readonly Lock Gate = new();
    private static readonly List<ActorLoop> Loops = [];
    private static readonly AutoResetEvent Wake = new(false);
    private static Thread? _thread;

    /// <summary>1 while the thread sleeps without a tick: the next loop to run user code wakes it.</summary>
    private static int _parked;

    public static void Add(ActorLoop loop)
    {
        lock (Gate)
        {
            Loops.Add(loop);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "Pigato.LoopWatchdog" };
                _thread.Start();
            }
        }
    }

    public static void Remove(ActorLoop loop)
    {
        lock (Gate)
        {
            Loops.Remove(loop);
        }
    }

    /// <summary>A loop starts running user code (after its full fence): the watchdog is woken if it sleeps.</summary>
    public static void Watch()
    {
        if (Volatile.Read(ref _parked) == 1 && Interlocked.Exchange(ref _parked, 0) == 1)
        {
            Wake.Set();
        }
    }

    private static void Run()
    {
        while (true)
        {
            Thread.Sleep(Tick);
            if (CheckAll())
            {
                continue;
            }

            // Said before looking once more (a full fence each side, as in Watch's caller): a loop that starts running
            // user code after this either sees the watchdog parked and wakes it, or is seen here.
            Interlocked.Exchange(ref _parked, 1);
            if (CheckAll())
            {
                Volatile.Write(ref _parked, 0);
                continue;
            }

            Wake.WaitOne();
        }
    }

    /// <summary>Checks every loop; true when one of them ran user code since the last look.</summary>
    private static bool CheckAll()
    {
        var now = Stopwatch.GetTimestamp();
        var active = false;
        lock (Gate)
        {
            foreach (var loop in Loops)
            {
                active |= loop.CheckHeld(now);
            }
        }

        return active;
    }
}
