namespace Pigato.Internal;

/// <summary>
/// Keeps an actor's events in order: <c>Started</c> (raised when its start returns, on the caller's thread) before
/// <c>Connected</c> (raised on its loop, which may hear the broker first). A Connected that comes first is held until
/// Started has been raised.
/// </summary>
internal sealed class StartedBeforeConnected
{
    private readonly Lock _gate = new();
    private bool _started;
    private bool _connectedHeld;

    /// <summary>A new start: nothing announced yet.</summary>
    public void Reset()
    {
        lock (_gate)
        {
            _started = false;
            _connectedHeld = false;
        }
    }

    /// <summary>The start returned: raises Started, then a Connected held meanwhile.</summary>
    public void Started(Action raiseStarted, Action raiseConnected)
    {
        raiseStarted();
        bool held;
        lock (_gate)
        {
            _started = true;
            held = _connectedHeld;
            _connectedHeld = false;
        }

        if (held)
        {
            raiseConnected();
        }
    }

    /// <summary>The broker was heard: Connected is raised now, or after Started when that has not been raised yet.</summary>
    public void Connected(Action raiseConnected)
    {
        lock (_gate)
        {
            if (!_started)
            {
                _connectedHeld = true;
                return;
            }
        }

        raiseConnected();
    }
}
