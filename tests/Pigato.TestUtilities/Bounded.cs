using System.Diagnostics;

namespace Pigato.TestUtilities;

/// <summary>Bounded waits: every wait in a test ends by itself, with a message saying what did not happen.</summary>
public static class Bounded
{
    /// <summary>The default bound: generous, because CI machines have two cores shared by every actor.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after the bound.</summary>
    public static Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        UntilAsync(() => Task.FromResult(condition()), what, timeout);

    /// <summary>Polls an asynchronous <paramref name="condition"/> (a broker's stats, a service's answer) until it holds; fails the test after the bound.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var bound = timeout ?? Timeout;
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > bound)
            {
                Assert.Fail($"Timed out after {bound.TotalSeconds:0.#} s waiting until {what}.");
            }

            await Task.Delay(10);
        }
    }

    /// <summary>Awaits a task, failing the test if it does not complete within the bound.</summary>
    public static async Task<T> WithinAsync<T>(this Task<T> task, string what, TimeSpan? timeout = null)
    {
        try
        {
            return await task.WaitAsync(timeout ?? Timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out waiting for {what}.");
            throw;
        }
    }

    /// <inheritdoc cref="WithinAsync{T}(Task{T}, string, TimeSpan?)"/>
    public static async Task WithinAsync(this Task task, string what, TimeSpan? timeout = null)
    {
        try
        {
            await task.WaitAsync(timeout ?? Timeout);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out waiting for {what}.");
        }
    }

    /// <summary>A token that cancels after the bound, for awaits that take one.</summary>
    public static CancellationToken Token(TimeSpan? timeout = null) => new CancellationTokenSource(timeout ?? Timeout).Token;
}
