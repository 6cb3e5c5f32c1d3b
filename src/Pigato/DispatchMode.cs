namespace Pigato;

/// <summary>How the broker picks a worker among the available ones.</summary>
public enum DispatchMode
{
    /// <summary>The worker with the fewest requests in flight, then the fewest served in total (PIGATO <c>load</c>).</summary>
    Load,

    /// <summary>A random available worker (PIGATO <c>rand</c>).</summary>
    Rand,
}
