namespace Pigato.Internal;

/// <summary>
/// A thread of the actor's own for what its loop hands off to user code (an awaiting caller's continuation, a
/// handler's start) while the actor is quiet (nothing else in flight) and the lane free; the thread pool otherwise. It
/// sleeps without spinning: the pool's workers spin before they sleep, after every item they run, which was most of the
/// CPU a quiet request cost a client or a worker (docs/performance.md). Under load the pool's spinning workers are the
/// cheaper way (a lane woken for every item would switch threads twice per item: measured, 40 % less throughput), and
/// while the lane runs something (user code that blocks, say) what comes next goes to the pool: nothing waits behind it.
/// </summary>
internal sealed class HandOffLane : IDisposable
{
    private readonly ManualResetEventSlim _signal = new(initialState: false, spinCount: 0);
    private readonly Func<bool> _quiet;
    private Action<object?>? _work;
    private object? _state;

    /// <summary>1 from the moment work is given to the lane until it finished running it.</summary>
    private int _busy;
    private volatile bool _disposed;

    /// <param name="name">The thread's name (what a debugger and a stack trace show).</param>
    /// <param name="quiet">True when the actor has nothing else in flight (asked at each hand-off).</param>
    public HandOffLane(string name, Func<bool> quiet)
    {
        _quiet = quiet;
        new Thread(Loop) { IsBackground = true, Name = name }.Start();
    }

    /// <summary>
    /// Runs <paramref name="work"/> with <paramref name="state"/> on the lane when the actor is quiet and the lane free
    /// (any thread); false, running nothing, otherwise: the caller queues it to the thread pool.
    /// </summary>
    public bool TryRun(Action<object?> work, object? state)
    {
        if (_disposed || !_quiet() || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            return false;
        }

        _work = work;
        _state = state;
        _signal.Set();
        return true;
    }

    /// <summary>Ends the lane's thread once it finished what it runs (it is a background thread: it never holds a process up).</summary>
    public void Dispose()
    {
        _disposed = true;
        _signal.Set();
    }

    private void Loop()
    {
        while (true)
        {
            _signal.Wait();
            _signal.Reset();
            var work = _work;
            var state = _state;
            _work = null;
            _state = null;
            if (work is not null)
            {
                work(state);
                Volatile.Write(ref _busy, 0);
            }

            // Disposed: the lane leaves once it holds the claim itself, so that work handed to it just before is run,
            // and work handed to it afterwards goes to the pool.
            if (_disposed && Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
            {
                return;
            }
        }
    }
}
