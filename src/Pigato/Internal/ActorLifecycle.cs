namespace Pigato.Internal;

/// <summary>
/// Start, stop and dispose of an actor, in one place: one at a time, idempotent, a failed start rolled back,
/// nothing usable after dispose.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A SemaphoreSlim whose wait handle is never asked for holds nothing to release; disposing it would race late callers.")]
internal sealed class ActorLifecycle(string actor)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private bool _running;
    private bool _disposed;

    public bool IsRunning => Volatile.Read(ref _running);

    /// <summary>Runs <paramref name="start"/> unless already running; when it throws, <paramref name="rollback"/> undoes what it did.</summary>
    public async Task StartAsync(Func<CancellationToken, Task> start, Func<Task> rollback, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, actor);
            if (_running)
            {
                return;
            }

            try
            {
                await start(cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await rollback().ConfigureAwait(false);
                throw;
            }

            Volatile.Write(ref _running, true);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs <paramref name="stop"/> once if running; true when this call stopped the actor.</summary>
    public async Task<bool> StopAsync(Func<Task> stop)
    {
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (!_running)
            {
                return false;
            }

            Volatile.Write(ref _running, false);
            await stop().ConfigureAwait(false);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Stops, then refuses any further start.</summary>
    public async ValueTask DisposeAsync(Func<Task> stop)
    {
        await StopAsync(stop).ConfigureAwait(false);
        _disposed = true;
    }
}
