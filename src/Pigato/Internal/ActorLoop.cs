using System.Collections.Concurrent;
using System.Diagnostics;
using NetMQ;

namespace Pigato.Internal;

/// <summary>
/// The one thread that owns an actor's sockets, its timers, and a command queue through which any other thread reaches
/// it. It waits with a <see cref="SocketPoller"/> of its own, or with a <see cref="NetMQPoller"/> when made for NetMQ
/// sockets (inproc://, ipc://, the directory's PUB/SUB, <see cref="ConnectionTransport.NetMQ"/>). Every callback runs
/// guarded so that no exception can end the loop.
/// </summary>
/// <remarks>
/// <para>
/// The loop of its own also runs user code (a handler's start, an awaiting caller's continuation) on its thread, after
/// the callbacks of a wake-up (<see cref="TryRunAfter"/>): no thread hop. User code that holds the thread longer than
/// <see cref="HoldLimit"/> loses the loop: the <see cref="LoopWatchdog"/> moves it to a new thread, which goes on
/// serving the sockets, timers and commands, while the old thread finishes that user code and ends.
/// </para>
/// <para>
/// A command is either run or failed, never dropped: after <see cref="Dispose"/>, <see cref="Post(Action)"/> throws
/// and <see cref="InvokeAsync{T}"/> fails at once with <see cref="PigatoErrorCodes.NotRunning"/>, and
/// calls still queued when the loop stops fail the same way.
/// </para>
/// </remarks>
internal sealed class ActorLoop : IDisposable
{
    /// <summary>How long user code may hold the loop's thread before the loop moves to another.</summary>
    public static readonly TimeSpan HoldLimit = TimeSpan.FromMilliseconds(50);

    /// <summary>How long the loop runs the user code of one wake-up before it hands the rest to the thread pool.</summary>
    public static readonly TimeSpan UserWorkBudget = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// After user code held the loop, how long the loop hands user code elsewhere (<see cref="TryRunAfter"/> declines): this
    /// at first, twice the last while it happens again within <see cref="MaxCooldown"/>, up to that.
    /// </summary>
    public static readonly TimeSpan FirstCooldown = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest cooldown (user code that holds the loop again and again).</summary>
    public static readonly TimeSpan MaxCooldown = TimeSpan.FromSeconds(10);

    private static readonly long HoldLimitTicks = Ticks(HoldLimit);
    private static readonly long UserWorkBudgetTicks = Ticks(UserWorkBudget);
    private static readonly long FirstCooldownTicks = Ticks(FirstCooldown);
    private static readonly long MaxCooldownTicks = Ticks(MaxCooldown);

    // _state: the loop's owner generation (above ModeBits) and what its thread runs (the low bits).
    private const int LoopCode = 0;
    private const int UserCode = 1;
    private const int MovedOver = 2;
    private const int ModeBits = 2;
    private const int ModeMask = (1 << ModeBits) - 1;

    private readonly NetMQPoller? _poller;
    private readonly NetMQTimer? _timerTick;
    private readonly SocketPoller? _sockets;
    private readonly List<LoopTimer> _timers = [];
    private readonly ConcurrentQueue<Command> _commands = new();
    private readonly LoopWakeup _wakeup = new();
    private readonly Lock _gate = new();
    private readonly Action<Exception> _onError;
    private readonly string _actor;
    private int _wakeupPending;

    /// <summary>1 while the loop of its own waits in (or is about to enter) its poll: only then does a post wake it.</summary>
    private int _waiting;
    private int _threadId = -1;
    private Thread? _thread;
    private bool _disposed;

    private int _state;
    private List<UserWork> _userWork = [];
    private List<UserWork> _spareUserWork = [];
    private long _userSince;
    private int _userRuns;
    private int _userRunsSeen;
    private long _inlineAgainAt;
    private long _movedAt;
    private long _cooldown;
    private long _heldFor;
    private readonly ManualResetEventSlim _exited = new(false);

    /// <param name="actor">The actor's name: its thread is "Pigato.{actor}".</param>
    /// <param name="onError">Told of any exception a callback throws.</param>
    /// <param name="withNetMq">True when NetMQ sockets will be polled (<see cref="Add(ISocketPollable)"/>): the loop then waits with a <see cref="NetMQPoller"/>.</param>
    public ActorLoop(string actor, Action<Exception> onError, bool withNetMq)
    {
        _actor = actor;
        _onError = onError;
        if (withNetMq)
        {
            _poller = [];
            _poller.Add(_wakeup.Socket, _ => OnWakeup());

            // The loop's timers share one NetMQ timer, set for the next of them to run.
            _timerTick = new NetMQTimer(TimeSpan.FromMilliseconds(1)) { Enable = false };
            _timerTick.Elapsed += (_, _) => RunDueTimers();
            _poller.Add(_timerTick);
        }
        else
        {
            _sockets = new SocketPoller();
            _sockets.Add(_wakeup.Socket, OnWakeup);
        }
    }

    /// <exception cref="InvalidOperationException">The loop was made without NetMQ.</exception>
    public void Add(ISocketPollable pollable) => NetMqPoller.Add(pollable);

    /// <exception cref="InvalidOperationException">The loop was made without NetMQ.</exception>
    public void Remove(ISocketPollable pollable) => NetMqPoller.Remove(pollable);

    /// <summary>Polls a plain TCP socket: <paramref name="onReadable"/> runs guarded on the loop whenever it has bytes (or an error) to read.</summary>
    public void Add(System.Net.Sockets.Socket socket, Action onReadable)
    {
        if (_poller is not null)
        {
            _poller.Add(socket, _ => Guard(onReadable));
        }
        else
        {
            _sockets!.Add(socket, () => Guard(onReadable));
        }
    }

    public void Remove(System.Net.Sockets.Socket socket)
    {
        if (_poller is not null)
        {
            _poller.Remove(socket);
        }
        else
        {
            _sockets!.Remove(socket);
        }
    }

    /// <summary>Runs a socket monitor's events on the loop.</summary>
    /// <exception cref="InvalidOperationException">The loop was made without NetMQ.</exception>
    public void Attach(NetMQ.Monitoring.NetMQMonitor monitor) => monitor.AttachToPoller(NetMqPoller);

    /// <summary>Makes a timer whose callback runs guarded on the loop.</summary>
    public LoopTimer Timer(TimeSpan interval, Action onElapsed, bool enabled = true)
    {
        var timer = new LoopTimer(interval, onElapsed, enabled, TimersChanged);
        _timers.Add(timer);
        TimersChanged();
        return timer;
    }

    /// <summary>Starts the loop on a background thread of its own; completes once it runs.</summary>
    public Task StartAsync()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(() =>
        {
            Volatile.Write(ref _threadId, Environment.CurrentManagedThreadId);
            started.SetResult();
        });
        if (_poller is not null)
        {
            _poller.RunAsync("Pigato." + _actor, true);
        }
        else
        {
            _thread = new Thread(Run) { IsBackground = true, Name = "Pigato." + _actor };
            LoopWatchdog.Add(this);
            _thread.Start();
        }

        return started.Task;
    }

    /// <summary>True inside one of the loop's callbacks (on its thread, not running user code: that posts like any other thread).</summary>
    public bool IsCurrent => OnLoopThread && (Volatile.Read(ref _state) & ModeMask) == LoopCode;

    /// <summary>True on the loop's thread, in a callback or in user code it runs (<see cref="TryRunAfter"/>).</summary>
    public bool OnLoopThread => Environment.CurrentManagedThreadId == Volatile.Read(ref _threadId);

    /// <summary>Told, on the loop's new thread, that user code held the old one for longer than <see cref="HoldLimit"/>, and the cooldown that follows.</summary>
    public Action<TimeSpan, TimeSpan>? UserCodeHeld { get; set; }

    /// <summary>
    /// In a callback: runs <paramref name="work"/> with <paramref name="state"/> on the loop's thread once this wake-up's
    /// callbacks are done (what it posts runs in the same wake-up, without a wake-up of its own). False, running nothing,
    /// when the loop cannot (NetMQ's poller, another thread, or user code held it, for a cooldown: <see cref="FirstCooldown"/>):
    /// the caller hands it elsewhere. User code of a wake-up beyond <see cref="UserWorkBudget"/> goes to the thread pool.
    /// </summary>
    public bool TryRunAfter(Action<object?> work, object? state)
    {
        if (_sockets is null || !IsCurrent || InCooldown())
        {
            return false;
        }

        _userWork.Add(new UserWork(work, state));
        return true;
    }

    /// <summary>True during a cooldown; the clock is read only while one is set (it is cleared once over).</summary>
    private bool InCooldown()
    {
        if (_inlineAgainAt == 0)
        {
            return false;
        }

        if (Stopwatch.GetTimestamp() < _inlineAgainAt)
        {
            return true;
        }

        _inlineAgainAt = 0;
        return false;
    }

    /// <summary>
    /// The watchdog's look (its thread): moves a loop held by user code longer than <see cref="HoldLimit"/> to a new thread,
    /// and says when to look again: when the user code running now would have held the loop too long, or a hold limit from
    /// now when the loop ran user code since the last look (a run that starts later cannot be held before);
    /// <see cref="long.MaxValue"/> when it ran none (idle).
    /// </summary>
    public long CheckHeld(long now)
    {
        var runs = Volatile.Read(ref _userRuns);
        var active = runs != _userRunsSeen;
        _userRunsSeen = runs;
        var limit = HoldLimitTicks;
        var state = Volatile.Read(ref _state);
        if ((state & ModeMask) != UserCode)
        {
            return active ? now + limit : long.MaxValue;
        }

        var since = Volatile.Read(ref _userSince);
        var next = ((state >> ModeBits) + 1) << ModeBits;
        if (now - since <= limit)
        {
            return since + limit;
        }

        if (Interlocked.CompareExchange(ref _state, next | MovedOver, state) == state)
        {
            _heldFor = now - since;
            var thread = new Thread(RunMovedOver) { IsBackground = true, Name = "Pigato." + _actor };
            Volatile.Write(ref _thread, thread);
            thread.Start();
        }

        return now + limit;
    }

    /// <summary>Runs <paramref name="command"/> on the loop (in order with other posts).</summary>
    /// <exception cref="PigatoException">The loop has stopped (<see cref="PigatoErrorCodes.NotRunning"/>).</exception>
    /// <remarks>
    /// Waking the loop costs a datagram (<see cref="LoopWakeup"/>), so a burst of posts shares one wake-up: only the
    /// first post after the loop started draining sends it, and none while the loop of its own runs rather than waits.
    /// </remarks>
    public void Post(Action command) => Enqueue(new Command(Invoke, command, null));

    /// <summary>Runs <paramref name="command"/> with <paramref name="state"/> on the loop: a static command and its state allocate nothing.</summary>
    /// <exception cref="PigatoException">The loop has stopped (<see cref="PigatoErrorCodes.NotRunning"/>).</exception>
    public void Post(Action<object?> command, object? state) => Enqueue(new Command(command, state, null));

    /// <summary>
    /// Runs <paramref name="command"/> at once when called on the loop (guarded; the current callback's <see cref="AfterEach"/>
    /// follows it), else posts it.
    /// </summary>
    /// <exception cref="PigatoException">The loop has stopped (<see cref="PigatoErrorCodes.NotRunning"/>).</exception>
    public void RunOrPost(Action command) => RunOrPost(Invoke, command);

    /// <summary><see cref="RunOrPost(Action)"/> with a state for the command (see <see cref="Post(Action{object}, object)"/>).</summary>
    /// <exception cref="PigatoException">The loop has stopped (<see cref="PigatoErrorCodes.NotRunning"/>).</exception>
    public void RunOrPost(Action<object?> command, object? state)
    {
        if (IsCurrent)
        {
            Guard(command, state, after: false);
        }
        else
        {
            Post(command, state);
        }
    }

    /// <summary>Runs an <see cref="Action"/> given as a command's state.</summary>
    public static void Invoke(object? action) => ((Action)action!)();

    /// <summary>Runs <paramref name="function"/> on the loop and returns its result; fails when the loop stops first.</summary>
    public Task<T> InvokeAsync<T>(Func<T> function)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            Enqueue(new Command(
                Invoke,
                () =>
                {
                    try
                    {
                        result.TrySetResult(function());
                    }
                    catch (Exception e)
                    {
                        result.TrySetException(e);
                    }
                },
                e => result.TrySetException(e)));
        }
        catch (PigatoException e)
        {
            result.TrySetException(e);
        }

        return result.Task;
    }

    /// <summary>Runs <paramref name="action"/> on the loop; fails when the loop stops first.</summary>
    public Task InvokeAsync(Action action) => InvokeAsync(() =>
    {
        action();
        return true;
    });

    /// <summary>
    /// Runs after every callback of the loop (a socket's messages, a timer, the commands of one wake-up): the broker hands
    /// what a wake-up made durable to its store there, a client or worker sends the messages the callback batched.
    /// </summary>
    public Action? AfterEach { get; set; }

    /// <summary>Runs a callback, reporting instead of throwing.</summary>
    public void Guard(Action action) => Guard(Invoke, action, after: true);

    private void Guard(Action<object?> action, object? state, bool after)
    {
        try
        {
            action(state);
        }
#pragma warning disable CA1031 // The loop must survive any failure of one callback.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Report(e);
        }

        if (after)
        {
            RunAfterEach();
        }
    }

    /// <summary>Runs <see cref="AfterEach"/>, even after a failed callback (what it hands on was made either way).</summary>
    private void RunAfterEach()
    {
        try
        {
            AfterEach?.Invoke();
        }
#pragma warning disable CA1031 // Same: the loop survives a failing after-step.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Report(e);
        }
    }

    /// <summary>Reports a failure of a callback (for hot paths that catch themselves rather than allocate a delegate).</summary>
    public void Report(Exception exception)
    {
        try
        {
            _onError(exception);
        }
#pragma warning disable CA1031 // Not even a failing error handler (user code in an Error event) may end the loop.
        catch
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Stops the loop, waits for its thread to leave it, and fails every call still queued (call from another thread).</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        if (_poller is { IsRunning: true })
        {
            _poller.Stop();
        }

        if (_thread is not null)
        {
            // As NetMQPoller.Stop: the loop ends after its current callback (it sees _disposed); waited for unless this is that
            // callback. Whichever thread holds the loop then says so (user code may hold the old one: the loop moves on).
            _wakeup.Signal();
            if (!OnLoopThread)
            {
                _exited.Wait();
            }

            LoopWatchdog.Remove(this);
        }

        var stopped = NotRunning();
        while (_commands.TryDequeue(out var command))
        {
            command.Fail?.Invoke(stopped);
        }

        _poller?.Dispose();
        _sockets?.Dispose();
        _wakeup.Dispose();
    }

    private NetMQPoller NetMqPoller => _poller ?? throw new InvalidOperationException($"The {_actor.ToLowerInvariant()}'s loop was made without NetMQ: it polls plain sockets only.");

    /// <summary>
    /// The loop of its own: wait for a socket or the next timer, run what is ready and the commands posted meanwhile,
    /// until stopped. A command posted while the loop runs costs no wake-up: the loop takes it before it waits again.
    /// </summary>
    private void Run()
    {
        var owner = Volatile.Read(ref _state) & ~ModeMask;
        while (!Volatile.Read(ref _disposed))
        {
            // Said before the queue is looked at (a full fence each side, as in Enqueue): a post either sees the loop
            // waiting and wakes it, or is seen here, and the loop does not wait.
            Interlocked.Exchange(ref _waiting, 1);
            try
            {
                _sockets!.Wait(_commands.IsEmpty && _userWork.Count == 0 ? NextDue() : 0);
            }
#pragma warning disable CA1031 // Same as a callback's: reported, and the loop waits again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Report(e);
            }

            Volatile.Write(ref _waiting, 0);
            _sockets!.Dispatch();
            RunDueTimers();
            if (!_commands.IsEmpty)
            {
                RunCommands();
            }

            if (_userWork.Count > 0)
            {
                if (!RunUserWork(owner))
                {
                    return; // the loop moved to another thread while user code held this one
                }

                if (!_commands.IsEmpty)
                {
                    RunCommands(); // what the user code posted: its replies, its next requests
                }
            }
        }

        _exited.Set();
    }

    /// <summary>The loop's new thread, after user code held the old one: it owns the loop from here (the old one never touches it again).</summary>
    private void RunMovedOver()
    {
        Volatile.Write(ref _threadId, Environment.CurrentManagedThreadId);
        (_userWork, _spareUserWork) = ([], []);
        var now = Stopwatch.GetTimestamp();
        _cooldown = _movedAt != 0 && now - _movedAt < MaxCooldownTicks ? Math.Min(2 * _cooldown, MaxCooldownTicks) : FirstCooldownTicks;
        _movedAt = now;
        _inlineAgainAt = now + _cooldown;
        Interlocked.Exchange(ref _state, Volatile.Read(ref _state) & ~ModeMask); // LoopCode, this generation: IsCurrent from here
        if (UserCodeHeld is { } held)
        {
            Guard(() => held(Stopwatch.GetElapsedTime(0, _heldFor), Stopwatch.GetElapsedTime(0, _cooldown)));
        }

        Run();
    }

    /// <summary>
    /// Runs the user code of this wake-up, up to <see cref="UserWorkBudget"/> (the rest goes to the thread pool). False when
    /// the loop moved to another thread meanwhile: this thread hands what is left to the pool and leaves the loop.
    /// </summary>
    private bool RunUserWork(int owner)
    {
        var work = _userWork;
        _userWork = _spareUserWork;
        var started = Stopwatch.GetTimestamp();
        Volatile.Write(ref _userSince, started);
        _userRuns++;
        Interlocked.Exchange(ref _state, owner | UserCode);
        LoopWatchdog.Watch();
        var i = 0;
        for (; i < work.Count; i++)
        {
            // The first always runs here (a thread preempted before it has spent no budget on user code).
            if (Volatile.Read(ref _state) != (owner | UserCode) || (i > 0 && Stopwatch.GetTimestamp() - started > UserWorkBudgetTicks))
            {
                break;
            }

            try
            {
                work[i].Run(work[i].State);
            }
#pragma warning disable CA1031 // User code's failure is reported; the loop goes on.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Report(e);
            }
        }

        for (; i < work.Count; i++)
        {
            ThreadPool.UnsafeQueueUserWorkItem(work[i].Run, work[i].State, preferLocal: false);
        }

        if (Interlocked.CompareExchange(ref _state, owner | LoopCode, owner | UserCode) != (owner | UserCode))
        {
            return false;
        }

        work.Clear();
        _spareUserWork = work;
        return true;
    }

    /// <summary>A wake-up: the commands posted since the last one.</summary>
    private void OnWakeup()
    {
        _wakeup.Drain();

        // Cleared before draining: a command posted from here on wakes the loop again.
        Volatile.Write(ref _wakeupPending, 0);
        RunCommands();
    }

    /// <summary>
    /// The commands that wait, as one callback: AfterEach runs once, after the last (a client's or worker's messages to
    /// the broker leave together, a broker's journal is handed over once).
    /// </summary>
    private void RunCommands()
    {
        while (_commands.TryDequeue(out var command))
        {
            Guard(command.Run, command.State, after: false);
        }

        RunAfterEach();
    }

    /// <summary>When the next timer runs (a <see cref="Stopwatch"/> timestamp), <see cref="long.MaxValue"/> when none is enabled.</summary>
    private long NextDue()
    {
        var next = long.MaxValue;
        foreach (var timer in _timers)
        {
            next = Math.Min(next, timer.Due);
        }

        return next;
    }

    /// <summary>The timers the loop holds (disposed ones until its next round of timers).</summary>
    internal int TimerCount => _timers.Count;

    /// <summary>
    /// Runs every timer that is due (by index: a callback may make timers, which are not due yet), then drops the disposed
    /// ones (a connection dropped after a DNS change disposes its timers: none stays behind for the actor's lifetime).
    /// </summary>
    private void RunDueTimers()
    {
        var now = Stopwatch.GetTimestamp();
        var disposed = false;
        for (var i = 0; i < _timers.Count; i++)
        {
            var timer = _timers[i];
            disposed |= timer.IsDisposed;
            timer.RunIfDue(now, Guard);
        }

        if (disposed)
        {
            _timers.RemoveAll(static timer => timer.IsDisposed);
        }

        TimersChanged();
    }

    /// <summary>With NetMQ, sets the shared NetMQ timer for the next timer to run; the own loop reads <see cref="NextDue"/> at each wait.</summary>
    private void TimersChanged()
    {
        if (_timerTick is null)
        {
            return;
        }

        var next = NextDue();
        if (next == long.MaxValue)
        {
            _timerTick.Enable = false;
            return;
        }

        var remaining = Math.Max(0, next - Stopwatch.GetTimestamp());
        _timerTick.Interval = (int)Math.Clamp((remaining * 1000 + Stopwatch.Frequency - 1) / Stopwatch.Frequency, 1, int.MaxValue);
        _timerTick.Enable = true;
    }

    private void Enqueue(Command command)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                throw NotRunning();
            }

            _commands.Enqueue(command);
            Interlocked.MemoryBarrier(); // the enqueue before the read of _waiting (Run's mirror image)

            // Inside the gate, so that Dispose never closes the wake-up socket under a post. NetMQ's poller is woken for
            // every first post; the loop of its own only while it waits (it takes the rest before waiting again).
            if ((_poller is not null || Volatile.Read(ref _waiting) == 1) && Interlocked.Exchange(ref _wakeupPending, 1) == 0)
            {
                _wakeup.Signal();
            }
        }
    }

    private static long Ticks(TimeSpan span) => (long)(span.TotalSeconds * Stopwatch.Frequency);

    private PigatoException NotRunning() => new(PigatoErrorCodes.NotRunning, $"The {_actor.ToLowerInvariant()} is not running.");

    private readonly record struct Command(Action<object?> Run, object? State, Action<Exception>? Fail);

    private readonly record struct UserWork(Action<object?> Run, object? State);
}
