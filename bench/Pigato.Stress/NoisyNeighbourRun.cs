using System.Diagnostics;

namespace Pigato.Stress;

/// <summary>
/// The noisy neighbour (issue 29): one client keeps <see cref="InFlight"/> requests in flight to a service whose worker
/// takes <see cref="Concurrency"/> at once, so that most of them wait in the broker's queue, while a bystander does
/// sequential round trips to the same service. Run with the broker's fair queuing per client and without (one FIFO):
/// the bystander's latency unloaded and under the flood, and the flood's throughput. A <paramref name="Pace"/> spaces the
/// bystander's round trips, so that its own work is the same with either setting and the flood's throughput compares.
/// </summary>
internal sealed record NoisyNeighbourRun(string Fairness, TimeSpan FloodFor, TimeSpan? Pace = null)
{
    private const int InFlight = 1_000;
    private const int Concurrency = 10;
    private const string Service = "shared";

    public async Task<NoisyNeighbourResult> ExecuteAsync(CancellationToken cancellationToken)
    {
        using var broker = await BrokerProcess.StartAsync(cancellationToken, "--fair-queuing", Fairness);
        Progress($"fair queuing {Fairness}: broker pid {broker.Pid} on {broker.Endpoint}");
        await using var worker = new Worker(new WorkerOptions { Endpoint = broker.Endpoint, Service = Service, Concurrency = Concurrency }, (data, reply, _) => reply.EndAsync(data));
        await worker.StartAsync(cancellationToken);
        await worker.WaitForRegistrationAsync(TimeSpan.FromSeconds(10), cancellationToken);
        await using var bystander = new Client(new ClientOptions { Endpoint = broker.Endpoint });
        await using var flooder = new Client(new ClientOptions { Endpoint = broker.Endpoint });
        await bystander.StartAsync(cancellationToken);
        await flooder.StartAsync(cancellationToken);

        using (var unloadedFor = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await RoundTrips.ProbeAsync(bystander, Service, unloadedFor.Token, max: 200); // warm-up
        }

        using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var unloaded = await RoundTrips.ProbeAsync(bystander, Service, quiet.Token, max: 1_000);
        unloaded.Sort();

        using var stop = new CancellationTokenSource();
        var flood = FloodAsync(flooder, stop.Token);
        using var floodWindow = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        floodWindow.CancelAfter(FloodFor);
        var loaded = await RoundTrips.ProbeAsync(bystander, Service, floodWindow.Token, pace: Pace);
        await stop.CancelAsync();
        var (served, failed, seconds) = await flood;
        loaded.Sort();
        Progress($"fair queuing {Fairness}: flood {served / seconds:N0} req/s, bystander p99 {RoundTrips.Percentile(loaded, 0.99):0.0} ms");
        return new NoisyNeighbourResult(
            Pace is { } pace ? $"{Fairness}, bystander every {pace.TotalMilliseconds:0} ms" : Fairness, broker.IsAlive,
            UnloadedP50Ms: RoundTrips.Percentile(unloaded, 0.5), UnloadedP99Ms: RoundTrips.Percentile(unloaded, 0.99),
            LoadedRoundTrips: loaded.Count, LoadedFailed: loaded.Count(double.IsPositiveInfinity),
            LoadedP50Ms: RoundTrips.Percentile(loaded, 0.5), LoadedP99Ms: RoundTrips.Percentile(loaded, 0.99), LoadedMaxMs: loaded.Count == 0 ? double.NaN : loaded[^1],
            FloodPerSecond: served / seconds, FloodFailed: failed);
    }

    /// <summary>Keeps <see cref="InFlight"/> requests outstanding until stopped; how many were served and failed, over how long.</summary>
    private static async Task<(long Served, long Failed, double Seconds)> FloodAsync(Client client, CancellationToken stop)
    {
        long served = 0, failed = 0;
        var clock = Stopwatch.StartNew();
        async Task LaneAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await client.RequestAsync<string>(Service, "abc", new RequestOptions { Timeout = TimeSpan.FromSeconds(30) }, CancellationToken.None);
                    Interlocked.Increment(ref served);
                }
                catch (PigatoException)
                {
                    Interlocked.Increment(ref failed);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, InFlight).Select(_ => Task.Run(LaneAsync, CancellationToken.None)));
        return (served, failed, clock.Elapsed.TotalSeconds);
    }

    private static void Progress(string line) => Console.Error.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");
}

/// <summary>What one noisy-neighbour run measured.</summary>
internal sealed record NoisyNeighbourResult(
    string Fairness, bool BrokerAlive, double UnloadedP50Ms, double UnloadedP99Ms, int LoadedRoundTrips, int LoadedFailed,
    double LoadedP50Ms, double LoadedP99Ms, double LoadedMaxMs, double FloodPerSecond, long FloodFailed)
{
    /// <summary>The broker survived and served both clients; the latencies are reported, not enforced (machines differ).</summary>
    public bool Passed => BrokerAlive && LoadedFailed == 0 && FloodFailed == 0 && LoadedRoundTrips > 0;

    public static string Table(IEnumerable<NoisyNeighbourResult> runs) => string.Join(Environment.NewLine, [
        "| fair queuing | bystander unloaded p50 / p99 | bystander under the flood p50 / p99 / max | p99 under flood / unloaded | flood throughput | failed |",
        "|---|---|---|---|---|---|",
        .. runs.Select(r => $"| {r.Fairness} | {r.UnloadedP50Ms:0.00} / {r.UnloadedP99Ms:0.00} ms | {r.LoadedP50Ms:0.00} / {r.LoadedP99Ms:0.00} / {r.LoadedMaxMs:0.0} ms ({r.LoadedRoundTrips:N0}) | {r.LoadedP99Ms / r.UnloadedP99Ms:0.0}x | {r.FloodPerSecond:N0} req/s | {r.LoadedFailed + r.FloodFailed} |"),
    ]);
}
