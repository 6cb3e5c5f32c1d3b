using System.Diagnostics;

namespace Pigato.Internal;

/// <summary>
/// A timer of an <see cref="ActorLoop"/>: while enabled, its callback runs on the loop every <see cref="Interval"/>, counted
/// from when it was enabled, its interval set, or it last ran. Loop thread only (or before the loop starts, or once it
/// stopped). Disposed, it never runs again and leaves its loop's list at the loop's next round of timers.
/// </summary>
internal sealed class LoopTimer : IDisposable
{
    private static readonly TimeSpan Shortest = TimeSpan.FromMilliseconds(1);

    private readonly Action _changed;
    private TimeSpan _interval;
    private bool _enable;

    internal LoopTimer(TimeSpan interval, Action onElapsed, bool enabled, Action changed)
    {
        _changed = changed;
        OnElapsed = onElapsed;
        _interval = interval < Shortest ? Shortest : interval;
        Enable = enabled;
    }

    /// <summary>How often the callback runs (at least a millisecond); setting it starts the count again.</summary>
    public TimeSpan Interval
    {
        get => _interval;
        set
        {
            _interval = value < Shortest ? Shortest : value;
            if (_enable)
            {
                Arm(Stopwatch.GetTimestamp());
            }
        }
    }

    /// <summary>Whether the timer runs; enabling it starts the count.</summary>
    public bool Enable
    {
        get => _enable;
        set
        {
            if (_enable == value || (value && IsDisposed))
            {
                return;
            }

            _enable = value;
            if (value)
            {
                Arm(Stopwatch.GetTimestamp());
            }
            else
            {
                Due = long.MaxValue;
                _changed();
            }
        }
    }

    /// <summary>When it runs next (a <see cref="Stopwatch"/> timestamp); <see cref="long.MaxValue"/> while disabled.</summary>
    internal long Due { get; private set; } = long.MaxValue;

    internal Action OnElapsed { get; }

    /// <summary>True once disposed: the loop drops it.</summary>
    internal bool IsDisposed { get; private set; }

    public void Dispose()
    {
        Enable = false;
        IsDisposed = true;
    }

    /// <summary>Runs the callback through <paramref name="guard"/> if it is due at <paramref name="now"/>, counting the next interval from now first (the callback may disable it).</summary>
    internal void RunIfDue(long now, Action<Action> guard)
    {
        if (Due > now)
        {
            return;
        }

        Arm(now);
        guard(OnElapsed);
    }

    private void Arm(long now)
    {
        Due = now + (long)(_interval.TotalSeconds * Stopwatch.Frequency);
        _changed();
    }
}
