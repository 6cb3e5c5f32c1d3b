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
/// A command is either run or failed, never dropped: after <see cref="Dispose"/>, <see cref="Post(Action)"/> throws
/// and <see cref="InvokeAsync{T}"/> fails at once with <see cref="PigatoErrorCodes.NotRunning"/>, and
/// calls still queued when the loop stops fail the same way.
/// </remarks>
internal sealed class ActorLoop : IDisposable
{
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
            _thread.Start();
        }

        return started.Task;
    }

    /// <summary>True on the loop's own thread (inside one of its callbacks).</summary>
    public bool IsCurrent => Environment.CurrentManagedThreadId == Volatile.Read(ref _threadId);

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
            // As NetMQPoller.Stop: the loop ends after its current callback (it sees _disposed); waited for unless this is that callback.
            _wakeup.Signal();
            if (!IsCurrent)
            {
                _thread.Join();
            }
        }

        var stopped = NotRunning();
        while (_commands.TryDequeue(out var command))
        {
            command.Fail?.Invoke(stopped);
        }

        _poller?.Dispose();
        _wakeup.Dispose();
    }

    private NetMQPoller NetMqPoller => _poller ?? throw new InvalidOperationException($"The {_actor.ToLowerInvariant()}'s loop was made without NetMQ: it polls plain sockets only.");

    /// <summary>
    /// The loop of its own: wait for a socket or the next timer, run what is ready and the commands posted meanwhile,
    /// until stopped. A command posted while the loop runs costs no wake-up: the loop takes it before it waits again.
    /// </summary>
    private void Run()
    {
        while (!Volatile.Read(ref _disposed))
        {
            // Said before the queue is looked at (a full fence each side, as in Enqueue): a post either sees the loop
            // waiting and wakes it, or is seen here, and the loop does not wait.
            Interlocked.Exchange(ref _waiting, 1);
            try
            {
                _sockets!.Wait(_commands.IsEmpty ? NextDue() : 0);
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
        }
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

    /// <summary>Runs every timer that is due (by index: a callback may make timers, which are not due yet).</summary>
    private void RunDueTimers()
    {
        var now = Stopwatch.GetTimestamp();
        for (var i = 0; i < _timers.Count; i++)
        {
            _timers[i].RunIfDue(now, Guard);
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

    private PigatoException NotRunning() => new(PigatoErrorCodes.NotRunning, $"The {_actor.ToLowerInvariant()} is not running.");

    private readonly record struct Command(Action<object?> Run, object? State, Action<Exception>? Fail);
}
