using System.Collections.Concurrent;
using NetMQ;

namespace Pigato.Internal;

/// <summary>
/// The one thread that owns an actor's sockets: a <see cref="NetMQPoller"/> plus a command queue through
/// which any other thread reaches it. Every callback runs guarded so that no exception can end the loop.
/// </summary>
internal sealed class ActorLoop : IDisposable
{
    private readonly NetMQPoller _poller = new();
    private readonly ConcurrentQueue<Action> _commands = new();
    private readonly NetMQQueue<bool> _wakeup = new();
    private readonly Action<Exception> _onError;
    private int _wakeupPending;

    public ActorLoop(Action<Exception> onError)
    {
        _onError = onError;
        _wakeup.ReceiveReady += (_, _) =>
        {
            while (_wakeup.TryDequeue(out _, TimeSpan.Zero))
            {
            }

            // Cleared before draining: a command posted from here on wakes the loop again.
            Volatile.Write(ref _wakeupPending, 0);
            while (_commands.TryDequeue(out var command))
            {
                Guard(command);
            }
        };
        _poller.Add(_wakeup);
    }

    public void Add(ISocketPollable pollable) => _poller.Add(pollable);

    public void Add(NetMQTimer timer) => _poller.Add(timer);

    public void Remove(ISocketPollable pollable) => _poller.Remove(pollable);

    /// <summary>Starts the loop on a background thread of its own; completes once it runs.</summary>
    public Task StartAsync(string name)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Post(started.SetResult);
        _poller.RunAsync(name, true);
        return started.Task;
    }

    /// <summary>Runs <paramref name="command"/> on the loop (in order with other posts).</summary>
    /// <remarks>
    /// Waking the poller costs a message through NetMQ, so a burst of posts shares one wake-up: only the
    /// first post after the loop started draining sends it.
    /// </remarks>
    public void Post(Action command)
    {
        _commands.Enqueue(command);
        if (Interlocked.Exchange(ref _wakeupPending, 1) == 0)
        {
            _wakeup.Enqueue(true);
        }
    }

    /// <summary>Runs <paramref name="function"/> on the loop and returns its result.</summary>
    public Task<T> InvokeAsync<T>(Func<T> function)
    {
        var result = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_poller.IsRunning)
        {
            result.SetException(new InvalidOperationException("The actor is not running."));
            return result.Task;
        }

        Post(() =>
        {
            try
            {
                result.SetResult(function());
            }
            catch (Exception e)
            {
                result.SetException(e);
            }
        });
        return result.Task;
    }

    /// <summary>Runs a callback, reporting instead of throwing.</summary>
    public void Guard(Action action)
    {
        try
        {
            action();
        }
#pragma warning disable CA1031 // The loop must survive any failure of one callback.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _onError(e);
        }
    }

    /// <summary>Stops the loop and waits for its thread to leave it (call from another thread).</summary>
    public void Stop()
    {
        if (_poller.IsRunning)
        {
            _poller.Stop();
        }
    }

    public void Dispose()
    {
        Stop();
        _poller.Dispose();
        _wakeup.Dispose();
    }
}
