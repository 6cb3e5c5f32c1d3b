using System.Diagnostics;

namespace Pigato.Perf.Roles;

/// <summary>What a load generator measured, in the shape the orchestrator reads.</summary>
internal sealed record LoadResult(long Requests, double Seconds, double P50Us, double P99Us, double MaxUs, long Bytes, long Failed = 0);

/// <summary>How long a client's warm-up took to reach a steady rate (reported in its ready line).</summary>
internal sealed record WarmUpSummary(long Requests, double[] Rates, bool Steady)
{
    public int Rounds => Rates.Length;
}

/// <summary>The three load shapes, over any request function (Pigato, NATS).</summary>
internal static class Load
{
    private const int WarmUpRound = 50_000;
    private const int MinWarmUpInFlight = 100;
    private const int MaxWarmUpInFlight = 1_000;
    private const int SteadyRounds = 3;
    private const double SteadyWithin = 0.10;

    /// <summary>Names the environment variable that sets the warm-up's minimum seconds (the orchestrator sets it for its children).</summary>
    public const string WarmUpSecondsVariable = "PIGATO_BENCH_WARMUP_SECONDS";

    /// <summary>The warm-up's minimum: <see cref="WarmUpSecondsVariable"/>, 10 s when unset (a full run).</summary>
    public static TimeSpan MinimumWarmUp =>
        TimeSpan.FromSeconds(double.TryParse(Environment.GetEnvironmentVariable(WarmUpSecondsVariable), System.Globalization.CultureInfo.InvariantCulture, out var seconds) ? seconds : 10);

    /// <summary>
    /// The warm-up every client role runs before its measured load, through the same broker and worker: rounds of
    /// 10 times the measured count, up to 50,000 requests, with the measured load's requests in flight but at least 100
    /// (the sequential scenario's code warms faster so) and at most 1,000, for at least <see cref="MinimumWarmUp"/> and until the rates
    /// of the last three rounds are within 10 % of each other, at most three times the minimum. The measured phase then
    /// sees every process's steady-state code, not the JIT's first tiers: on two busy cores .NET's tiered compilation (its
    /// profile-guided recompilation runs in the background, on the same cores) takes seconds, in steps, and a plateau can
    /// last three rounds (Pigato's rounds, one run: 29k 33k 76k 95k 108k 126k 142k 145k req/s; NATS.NET's 57k 56k 60k, then
    /// measured at 109k; with 4 clients and 2 workers, seven processes, NATS.NET's clients took some 25 s). A single
    /// 50,000-request warm-up, this benchmark's before, measured both at under half their steady rate (2026-12-01).
    /// </summary>
    /// <param name="round">Runs one round: requests, in flight.</param>
    /// <param name="count">The measured load's requests.</param>
    /// <param name="inFlight">The measured load's requests in flight.</param>
    /// <param name="roundSize">Requests per round at most.</param>
    public static async Task<WarmUpSummary> WarmUpAsync(Func<int, int, Task<LoadResult>> round, int count, int inFlight, int roundSize = WarmUpRound)
    {
        var requests = (int)Math.Min(10L * count, roundSize);
        var window = Math.Min(requests, Math.Clamp(inFlight, MinWarmUpInFlight, MaxWarmUpInFlight));
        var minimum = MinimumWarmUp;
        var clock = Stopwatch.StartNew();
        var rates = new List<double>();
        var total = 0L;
        while (true)
        {
            var result = await round(requests, window);
            total += result.Requests;
            rates.Add(Math.Round(result.Requests / Math.Max(result.Seconds, 1e-9)));
            var last = rates.TakeLast(SteadyRounds).ToList();
            var steady = last.Count == SteadyRounds && last.Max() <= (1 + SteadyWithin) * last.Min();
            if ((steady && clock.Elapsed >= minimum) || clock.Elapsed >= 3 * minimum)
            {
                return new WarmUpSummary(total, [.. rates], steady);
            }
        }
    }

    /// <summary><see cref="WarmUpAsync(Func{int, int, Task{LoadResult}}, int, int, int)"/> over one request function.</summary>
    public static Task<WarmUpSummary> WarmUpAsync(Func<Task> request, int count, int inFlight) =>
        WarmUpAsync((n, window) => ThroughputAsync(request, n, window), count, inFlight);

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

    /// <summary>
    /// <see cref="LatencyAsync"/> while the application briefly starves the thread pool now and then, as code that blocks in
    /// the pool does (sync-over-async, blocking I/O): a thread of its own queues, every 500 ms, one work item per core (plus
    /// one) that blocks for 200 ms. Whatever waits for a pool thread meanwhile waits for the pool to grow or free up.
    /// </summary>
    public static async Task<LoadResult> LatencyWhileThePoolIsStarvedAsync(Func<Task> request, int count)
    {
        using var done = new CancellationTokenSource();
        var starver = new Thread(() =>
        {
            do
            {
                for (var i = 0; i <= Environment.ProcessorCount; i++)
                {
                    ThreadPool.QueueUserWorkItem(static _ => Thread.Sleep(200));
                }
            }
            while (!done.Token.WaitHandle.WaitOne(500));
        }) { IsBackground = true, Name = "pool starver" };
        starver.Start();
        try
        {
            return await LatencyAsync(request, count);
        }
        finally
        {
            await done.CancelAsync();
            starver.Join();
        }
    }

    /// <summary>The measured load of a scenario's mode for a request function (latency, starved latency, or throughput).</summary>
    public static Task<LoadResult> ForMode(string mode, Func<Task> request, int count, int inFlight) => mode switch
    {
        "latency" => LatencyAsync(request, count),
        "latency-starved" => LatencyWhileThePoolIsStarvedAsync(request, count),
        _ => ThroughputAsync(request, count, inFlight),
    };

    public static LoadResult Summarize(long[] ticks, double seconds, long bytes)
    {
        Array.Sort(ticks);
        double Us(long t) => t * 1_000_000.0 / Stopwatch.Frequency;
        return ticks.Length == 0
            ? new LoadResult(0, seconds, 0, 0, 0, bytes)
            : new LoadResult(ticks.Length, seconds, Us(ticks[ticks.Length / 2]), Us(ticks[(int)(ticks.Length * 0.99)]), Us(ticks[^1]), bytes);
    }
}
