using System.Diagnostics;

namespace Pigato.Stress;

/// <summary>A bystander's sequential round trips, and their percentiles: what the scenarios measure a broker under load by.</summary>
internal static class RoundTrips
{
    /// <summary>
    /// Sequential 3-byte round trips to <paramref name="service"/> until stopped (milliseconds each), one at most every
    /// <paramref name="pace"/> when given; a failed one counts as infinite.
    /// </summary>
    public static async Task<List<double>> ProbeAsync(Client client, string service, CancellationToken stop, int max = 1_000_000, TimeSpan? pace = null)
    {
        await Task.Yield();
        var latencies = new List<double>();
        while (!stop.IsCancellationRequested && latencies.Count < max)
        {
            var started = Stopwatch.GetTimestamp();
            if (pace is { } interval && latencies.Count > 0)
            {
                try
                {
                    await Task.Delay(interval, stop);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                started = Stopwatch.GetTimestamp();
            }

            try
            {
                await client.RequestAsync<string>(service, "abc", new RequestOptions { Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None);
                var ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                latencies.Add(ms);
                if (ms > 100)
                {
                    Console.Error.WriteLine($"{DateTime.Now:HH:mm:ss} bystander: a round trip took {ms:0} ms");
                }
            }
            catch (PigatoException)
            {
                latencies.Add(double.PositiveInfinity);
            }
        }

        return latencies;
    }

    /// <summary>The <paramref name="p"/> percentile of sorted <paramref name="latencies"/> (NaN when empty).</summary>
    public static double Percentile(List<double> latencies, double p) =>
        latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(p * latencies.Count) - 1)];
}
