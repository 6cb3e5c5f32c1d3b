using System.Globalization;
using System.Text;

namespace Pigato.Perf.Runner;

/// <summary>Medians and ranges over repetitions, as a table for people.</summary>
internal static class Report
{
    /// <summary>Frames each process moves per request with PIGATO's format (client → broker 6, broker → worker 8, back 8 and 7; the broker's ROUTER adds an identity frame each way).</summary>
    public const int BrokerFramesPerRequest = 7 + 9 + 9 + 8;

    /// <summary>The same for the lean prototype: in [client, body], out [worker, client, body], in [worker, client, body], out [client, body].</summary>
    public const int LeanBrokerFramesPerRequest = 2 + 3 + 3 + 2;

    public static string Table(IReadOnlyList<Measurement> runs, IReadOnlyList<string> notes)
    {
        var rows = new List<string[]>
        {
            new[] { "scenario", "system", "req/s (median)", "range", "p50 µs", "p99 µs", "max µs", "CPU µs/req broker/workers/clients", "broker ns/frame", "B/req broker/workers/clients", "broker GCs", "idle/steal %" },
        };
        foreach (var group in runs.GroupBy(r => (r.Scenario, r.System)))
        {
            var rates = group.Select(r => r.Rate).Order().ToArray();
            var median = Median(group, r => r.Rate);
            var isStream = group.Key.Scenario.Contains("stream", StringComparison.Ordinal);
            rows.Add(
            [
                group.Key.Scenario,
                group.Key.System,
                isStream ? $"{median:N0} msg/s, {Median(group, r => r.Bytes / r.Seconds / 1e6):0.0} MB/s" : $"{median:N0}",
                $"{rates[0]:N0}–{rates[^1]:N0}",
                isStream ? "" : $"{Median(group, r => r.P50Us):0}",
                isStream ? "" : $"{Median(group, r => r.P99Us):0}",
                isStream ? "" : $"{Median(group, r => r.MaxUs):0}",
                $"{Median(group, r => r.BrokerUsPerRequest):0.0}/{Median(group, r => r.WorkersUsPerRequest):0.0}/{Median(group, r => r.ClientsUsPerRequest):0.0}",
                GcSetting.SystemOf(group.Key.System) switch
                {
                    Scenario.Nats or Scenario.NatsTls => "",
                    Scenario.LeanRaw => $"{Median(group, r => r.BrokerUsPerRequest) * 1000 / LeanBrokerFramesPerRequest:0}",
                    _ => $"{Median(group, r => r.BrokerUsPerRequest) * 1000 / BrokerFramesPerRequest:0}",
                },
                $"{BytesPerRequest(group, r => r.BrokerAllocatedBytes)}/{BytesPerRequest(group, r => r.WorkersAllocatedBytes)}/{BytesPerRequest(group, r => r.ClientsAllocatedBytes)}",
                group.All(r => r.BrokerGcs is not null) ? $"{Median(group, r => r.BrokerGcs!.Value):0}" : "",
                $"{Median(group, r => r.MachineIdlePercent):0}/{Median(group, r => r.MachineStealPercent):0}",
            ]);
        }

        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var (row, index) in rows.Select((r, i) => (r, i)))
        {
            text.AppendLine("| " + string.Join(" | ", row.Select((cell, i) => cell.PadRight(widths[i]))) + " |");
            if (index == 0)
            {
                text.AppendLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
            }
        }

        foreach (var run in runs.Where(r => r.Scenario.Contains("failover", StringComparison.Ordinal)))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {run.Scenario} · {run.System}: {run.Failed:N0} of {run.Requests:N0} requests failed; the slowest (caught by the kill, resent to another broker) took {run.MaxUs / 1000:0} ms");
        }

        foreach (var note in notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        return text.ToString();
    }

    /// <summary>Median bytes allocated per request by one group of processes, or "–" where they are not ours to ask (node, nats-server).</summary>
    private static string BytesPerRequest(IEnumerable<Measurement> runs, Func<Measurement, long?> allocated) =>
        runs.All(r => allocated(r) is not null) ? $"{Median(runs, r => (double)allocated(r)!.Value / r.Requests):0}" : "–";

    private static double Median(IEnumerable<Measurement> runs, Func<Measurement, double> value)
    {
        var sorted = runs.Select(value).Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
