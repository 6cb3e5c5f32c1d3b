using System.Diagnostics;

namespace Pigato.Perf.Roles;

/// <summary>What a load generator measured, in the shape the orchestrator reads.</summary>
internal sealed record LoadResult(long Requests, double Seconds, double P50Us, double P99Us, double MaxUs, long Bytes, long Failed = 0);

/// <summary>The three load shapes, over any request function (Pigato, NATS).</summary>
internal static class Load
{
    /// <summary>
    /// The warm-up every client role runs before its measured load, through the same broker and worker: long enough
    /// (up to 50,000 requests, up to 1,000 in flight) that the measured phase sees steady-state code, not the JIT's
    /// first tiers (a 5,000-request warm-up left 100,000-request runs at half the throughput of 400,000-request ones).
    /// </summary>
    public static (int Count, int InFlight) WarmUp(int count, int inFlight) => (Math.Min(count, 50_000), Math.Min(inFlight, 1_000));

    /// <summary>
    /// <paramref name="count"/> requests with <paramref name="inFlight"/> outstanding at once (that many
    /// loops each awaiting its own requests in turn); every latency is recorded.
    /// </summary>
    public static async Task<LoadResult> ThroughputAsync(Func<Task> request, int count, int inFlight)
    {
        var latencies = new long[count];
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Math.Min(inFlight, count)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var start = Stopwatch.GetTimestamp();
                await request();
                latencies[i] = Stopwatch.GetTimestamp() - start;
            }
        }));
        return Summarize(latencies, clock.Elapsed.TotalSeconds, 0);
    }

    /// <summary>
    /// Like <see cref="ThroughputAsync"/>, but a failed request is counted rather than thrown, and <paramref name="half"/>
    /// is called when half the requests are done (the orchestrator then kills a broker).
    /// </summary>
    public static async Task<LoadResult> FailoverAsync(Func<Task> request, int count, int inFlight, Action half)
    {
        var latencies = new long[count];
        var next = -1;
        var done = 0;
        long failed = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, Math.Min(inFlight, count)).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < count)
            {
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await request();
                }
                catch (PigatoException)
                {
                    Interlocked.Increment(ref failed);
                }

                latencies[i] = Stopwatch.GetTimestamp() - start;
                if (Interlocked.Increment(ref done) == count / 2)
                {
                    half();
                }
            }
        }));
        return Summarize(latencies, clock.Elapsed.TotalSeconds, 0) with { Failed = failed };
    }

    /// <summary><paramref name="count"/> requests one after the other.</summary>
    public static Task<LoadResult> LatencyAsync(Func<Task> request, int count) => ThroughputAsync(request, count, 1);

    public static LoadResult Summarize(long[] ticks, double seconds, long bytes)
    {
        Array.Sort(ticks);
        double Us(long t) => t * 1_000_000.0 / Stopwatch.Frequency;
        return ticks.Length == 0
            ? new LoadResult(0, seconds, 0, 0, 0, bytes)
            : new LoadResult(ticks.Length, seconds, Us(ticks[ticks.Length / 2]), Us(ticks[(int)(ticks.Length * 0.99)]), Us(ticks[^1]), bytes);
    }
}
