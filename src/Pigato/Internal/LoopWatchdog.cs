using System.Diagnostics;

namespace Pigato.Internal;

/// <summary>
/// One thread per process that moves a loop held by user code (<see cref="ActorLoop.TryRunAfter"/>) longer than
/// <see cref="ActorLoop.HoldLimit"/> to a new thread (<see cref="ActorLoop.CheckHeld"/>). It sleeps until the first moment
/// a loop could be held that long (so a busy process wakes it about once per hold limit, not at a fixed tick), and without
/// a deadline while no loop has run user code since it last looked: the next loop to run some wakes it.
/// </summary>
internal static class LoopWatchdog
{
    /// <summary>The shortest sleep between two looks (a loop found just at its limit is looked at again after it).</summary>
    private static readonly TimeSpan MinimumSleep = TimeSpan.FromMilliseconds(1);

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
            var next = CheckAll();
            if (next == long.MaxValue)
            {
                // Said before looking once more (a full fence each side, as in Watch's caller): a loop that starts running
                // user code after this either sees the watchdog parked and wakes it, or is seen here.
                Interlocked.Exchange(ref _parked, 1);
                next = CheckAll();
                if (next == long.MaxValue)
                {
                    Wake.WaitOne();
                    continue;
                }

                Volatile.Write(ref _parked, 0);
            }

            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), next);
            Thread.Sleep(wait > MinimumSleep ? TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)) : MinimumSleep);
        }
    }

    /// <summary>Looks at every loop; the earliest moment to look again, <see cref="long.MaxValue"/> when none ran user code.</summary>
    private static long CheckAll()
    {
        var now = Stopwatch.GetTimestamp();
        var next = long.MaxValue;
        lock (Gate)
        {
            foreach (var loop in Loops)
            {
                next = Math.Min(next, loop.CheckHeld(now));
            }
        }

        return next;
    }
}
