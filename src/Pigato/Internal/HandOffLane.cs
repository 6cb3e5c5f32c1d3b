namespace Pigato.Internal;

/// <summary>
/// Where an actor's loop hands user code (an awaiting caller's continuation, a handler's start): first the loop's own
/// thread, after the callbacks of its wake-up (<see cref="ActorLoop.TryRunAfter"/>: no thread hop at all; the loop moves
/// to another thread if that code holds it). Else threads of the actor's own while the actor is quiet (nothing else in
/// flight) and a lane thread free; the thread pool otherwise. They sleep without spinning: the pool's workers spin
/// before they sleep, after every item they run, which was most of the CPU a quiet request cost a client or a worker
/// (docs/performance.md). Under load the pool's spinning workers are the cheaper way (a lane woken for every item would
/// switch threads twice per item: measured, 40 % less throughput), and while both threads run something (user code that
/// blocks, say) what comes next goes to the pool: nothing waits behind them. Two threads, not one: the second takes what
/// comes while the first still runs the previous item (a sequential caller's continuation that sends the next request
/// and is still returning, or JIT-compiling, when its reply arrives), which one thread handed to the pool (with the pool
/// starved, a 200 ms wait: measured).
/// </summary>
internal sealed class HandOffLane : IDisposable
{
    private readonly Func<bool> _quiet;
    private readonly ActorLoop? _loop;
    private readonly LaneThread[] _threads;

    /// <param name="name">The threads' name (what a debugger and a stack trace show).</param>
    /// <param name="quiet">True when the actor has nothing else in flight (asked at each hand-off).</param>
    /// <param name="loop">The actor's loop, tried first when the hand-off happens in one of its callbacks.</param>
    public HandOffLane(string name, Func<bool> quiet, ActorLoop? loop = null)
    {
        _quiet = quiet;
        _loop = loop;
        _threads = [new LaneThread(name), new LaneThread(name)];
    }

    /// <summary>
    /// Runs <paramref name="work"/> with <paramref name="state"/> on the loop's thread after its callback (called in one),
    /// else on a lane thread when the actor is quiet and one is free (any thread); false, running nothing, otherwise: the
    /// caller queues it to the thread pool.
    /// </summary>
    public bool TryRun(Action<object?> work, object? state)
    {
        if (_loop?.TryRunAfter(work, state) == true)
        {
            return true;
        }

        // A disposed lane's threads decline by themselves.
        if (!_quiet())
        {
            return false;
        }

        foreach (var thread in _threads)
        {
            if (thread.TryRun(work, state))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Ends the threads once they finished what they run (they are background threads: they never hold a process up).</summary>
    public void Dispose()
    {
        foreach (var thread in _threads)
        {
            thread.Dispose();
        }
    }

    /// <summary>One thread of the lane: runs one item at a time, handed over through a signal that does not spin.</summary>
    private sealed class LaneThread : IDisposable
    {
        private readonly ManualResetEventSlim _signal = new(initialState: false, spinCount: 0);
        private Action<object?>? _work;
        private object? _state;

        /// <summary>1 from the moment work is given to the thread until it finished running it.</summary>
        private int _busy;
        private volatile bool _disposed;

        public LaneThread(string name) => new Thread(Loop) { IsBackground = true, Name = name }.Start();

        public bool TryRun(Action<object?> work, object? state)
        {
            if (_disposed || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
            {
                return false;
            }

            _work = work;
            _state = state;
            _signal.Set();
            return true;
        }

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

                // Disposed: the thread leaves once it holds the claim itself, so that work handed to it just before is
                // run, and work handed to it afterwards goes to the pool.
                if (_disposed && Interlocked.CompareExchange(ref _busy, 1, 0) == 0)
                {
                    return;
                }
            }
        }
    }
}
