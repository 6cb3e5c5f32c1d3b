namespace Pigato.Internal;

/// <summary>
/// Lifts the thread's synchronization context for a scope. On a loop thread that is NetMQPoller's, which would bring every
/// continuation of user code started there (an inline handler, an inline continuation) back onto the loop.
/// </summary>
internal readonly ref struct NoSynchronizationContext
{
    private readonly SynchronizationContext? _previous;

    private NoSynchronizationContext(SynchronizationContext? previous) => _previous = previous;

    public static NoSynchronizationContext Enter()
    {
        var previous = SynchronizationContext.Current;
        if (previous is not null)
        {
            SynchronizationContext.SetSynchronizationContext(null);
        }

        return new NoSynchronizationContext(previous);
    }

    public void Dispose()
    {
        if (_previous is not null)
        {
            SynchronizationContext.SetSynchronizationContext(_previous);
        }
    }
}
