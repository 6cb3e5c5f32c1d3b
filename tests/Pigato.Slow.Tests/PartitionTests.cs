using System.Diagnostics;
using System.Text.Json;
using Pigato.TestUtilities;
using Xunit.Abstractions;

namespace Pigato.Slow.Tests;

/// <summary>
/// Silent failures under load with <c>retry</c>: brokers, workers and clients on hosts of their own (network namespaces on
/// one switch), links cut at the switch so that no reset, no unreachable and no link-down ever reaches them, and a broker
/// frozen with SIGSTOP. Every process is a real <c>pigato</c> command; every peer heartbeats every 500 ms with liveness 3.
/// Each test prints how long the peers took to notice and the slowest request.
/// </summary>
public sealed class PartitionTests(ITestOutputHelper output)
{
    private const int Port = 5555;
    private static readonly string[] Pace = ["--heartbeat", "500ms", "--liveness", "3"];

    /// <summary>Liveness × heartbeat, plus room for a loaded two-core machine.</summary>
    private static readonly TimeSpan DetectionBound = TimeSpan.FromSeconds(1.5 + 3);

    [SkippableFact]
    public async Task ClientCutFromOneOfThreeBrokers_ResendsElsewhere_NoneFailed_AndTheHealedBrokerIsUsedAgain()
    {
        using var lab = CreateLab();
        var brokers = new[] { lab.AddHost("b1"), lab.AddHost("b2"), lab.AddHost("b3") };
        var workerHost = lab.AddHost("w");
        var clientHost = lab.AddHost("c");
        using var processes = new Processes();
        await processes.StartBrokersAsync(brokers);
        await processes.StartWorkerAsync(workerHost, brokers);
        var load = processes.StartLoad(clientHost, brokers, TimeSpan.FromSeconds(14));
        await load.UntilFlowingAsync();

        var cutAt = Stopwatch.GetTimestamp();
        lab.Cut(clientHost, brokers[0]);
        var detected = await load.FirstLineAfterAsync(cutAt, brokers[0].Endpoint(Port), "silent", "dropped");
        await Bounded.UntilAsync(() => Stopwatch.GetElapsedTime(cutAt) > DetectionBound, "the cut has lasted a while");

        var healAt = Stopwatch.GetTimestamp();
        lab.HealAll();
        var reconnected = await load.FirstLineAfterAsync(healAt, "connected to " + brokers[0].Endpoint(Port));
        var receivedAtHeal = await Processes.ReceivedAsync(brokers[0]);
        await Bounded.UntilAsync(async () => await Processes.ReceivedAsync(brokers[0]) > receivedAtHeal, "the healed broker receives requests again", TimeSpan.FromSeconds(10));

        var summary = await load.SummaryAsync();
        Report("client cut from 1 of 3 brokers", summary, ("client noticed", detected - cutAt), ("back in use", reconnected - healAt));
        Assert.True(detected - cutAt < DetectionBound.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond, "the client noticed the cut within its liveness");
        AssertAllAnswered(summary);
    }

    [SkippableFact]
    public async Task WorkerCutFromItsBroker_TheBrokerRequeuesWhatItHeld_NoneFailed_AndTheWorkerComesBack()
    {
        using var lab = CreateLab();
        var broker = lab.AddHost("b1");
        var cutWorkerHost = lab.AddHost("w1");
        var otherWorkerHost = lab.AddHost("w2");
        var clientHost = lab.AddHost("c");
        using var processes = new Processes();
        var brokerProcess = (await processes.StartBrokersAsync([broker]))[0];
        var cutWorker = await processes.StartWorkerAsync(cutWorkerHost, [broker]);
        await processes.StartWorkerAsync(otherWorkerHost, [broker]);
        var load = processes.StartLoad(clientHost, [broker], TimeSpan.FromSeconds(10));
        await load.UntilFlowingAsync();

        var cutAt = Stopwatch.GetTimestamp();
        lab.Cut(cutWorkerHost, broker);
        var left = await brokerProcess.FirstLineAfterAsync(cutAt, "left service echo");
        var leftLine = brokerProcess.Timeline.First(l => l.At == left).Line;

        var healAt = Stopwatch.GetTimestamp();
        lab.HealAll();
        var back = await cutWorker.FirstLineAfterAsync(healAt, " offers 'echo'");

        var summary = await load.SummaryAsync();
        Report("worker cut from its broker", summary, ("broker noticed", left - cutAt), ("worker back", back - healAt));
        output.WriteLine("broker: " + leftLine);
        Assert.Contains("re-queued", leftLine, StringComparison.Ordinal);
        Assert.True(left - cutAt < DetectionBound.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond, "the broker noticed the lost worker within its liveness");
        AssertAllAnswered(summary);
    }

    [SkippableFact]
    public async Task BrokerFrozenThenThawed_ClientsResendElsewhere_NoneFailed_AndTheBrokerIsUsedAgain()
    {
        using var lab = CreateLab();
        var brokers = new[] { lab.AddHost("b1"), lab.AddHost("b2"), lab.AddHost("b3") };
        var workerHost = lab.AddHost("w");
        var clientHost = lab.AddHost("c");
        using var processes = new Processes();
        var frozen = (await processes.StartBrokersAsync(brokers))[0];
        await processes.StartWorkerAsync(workerHost, brokers);
        var load = processes.StartLoad(clientHost, brokers, TimeSpan.FromSeconds(14));
        await load.UntilFlowingAsync();

        var frozenAt = Stopwatch.GetTimestamp();
        frozen.Freeze();
        var detected = await load.FirstLineAfterAsync(frozenAt, brokers[0].Endpoint(Port), "silent", "dropped");
        await Bounded.UntilAsync(() => Stopwatch.GetElapsedTime(frozenAt) > DetectionBound, "the freeze has lasted a while");

        var thawAt = Stopwatch.GetTimestamp();
        frozen.Thaw();
        var reconnected = await load.FirstLineAfterAsync(thawAt, "connected to " + brokers[0].Endpoint(Port));

        var summary = await load.SummaryAsync();
        Report("broker frozen (SIGSTOP) then thawed", summary, ("client noticed", detected - frozenAt), ("back in use", reconnected - thawAt));
        AssertAllAnswered(summary);
    }

    private static NetworkLab CreateLab()
    {
        var unavailable = NetworkLab.Unavailable();

        // In CI these tests must run: a machine that cannot make namespaces there is a failure, not a skip.
        Skip.If(unavailable is not null && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")), $"Partition tests skipped: {unavailable}.");
        return NetworkLab.Create();
    }

    private void Report(string scenario, LoadSummary summary, params (string What, long Ticks)[] times) =>
        output.WriteLine($"{scenario}: {string.Join(", ", times.Select(t => $"{t.What} after {Stopwatch.GetElapsedTime(0, t.Ticks).TotalMilliseconds:0} ms"))}; "
            + $"{summary.Ok:N0}/{summary.Requests:N0} ok, slowest request {summary.MaxMs:0} ms, p99 {summary.P99Ms:0.0} ms");

    private static void AssertAllAnswered(LoadSummary summary)
    {
        Assert.True(summary.Requests > 0);
        Assert.Equal(summary.Requests, summary.Ok);
        Assert.Equal("{}", summary.Failed);
        Assert.Equal(0, summary.Timeouts);
    }

    /// <summary>What <c>pigato load --json</c> reported.</summary>
    private sealed record LoadSummary(int Requests, int Ok, string Failed, int Timeouts, double MaxMs, double P99Ms);

    /// <summary>The processes of one test, each in its host's namespace, killed by pid at the end.</summary>
    private sealed class Processes : IDisposable
    {
        private readonly List<PigatoProcess> _all = [];

        public async Task<PigatoProcess[]> StartBrokersAsync(NetworkHost[] hosts)
        {
            var started = new PigatoProcess[hosts.Length];
            for (var i = 0; i < hosts.Length; i++)
            {
                var endpoint = hosts[i].Endpoint(Port);
                started[i] = Add(await PigatoProcess.StartAsync(endpoint, "listening on", ["broker", "--bind", endpoint, "--no-directory", "--heartbeat", "500ms", "--liveness", "3", "--http", "127.0.0.1:8080"], hosts[i].Namespace));
            }

            return started;
        }

        /// <summary>An echo worker connected to every broker of <paramref name="brokers"/>, once each has registered it.</summary>
        public async Task<PigatoProcess> StartWorkerAsync(NetworkHost host, NetworkHost[] brokers)
        {
            var worker = Add(PigatoProcess.Launch(host.Name, ["worker", "echo", .. BrokerArgs(brokers), .. Pace], host.Namespace));
            await Bounded.UntilAsync(() => worker.Output.Count(l => l.Contains(" offers 'echo'", StringComparison.Ordinal)) >= brokers.Length, $"worker on {host.Name} registered with {brokers.Length} broker(s)");
            return worker;
        }

        /// <summary>A client sending echo requests with retry, 50 in flight, for <paramref name="duration"/>.</summary>
        public LoadProcess StartLoad(NetworkHost host, NetworkHost[] brokers, TimeSpan duration) =>
            new(Add(PigatoProcess.Launch(host.Name, ["load", "echo", "\"partition\"", "--requests", "5000000", "--in-flight", "50", "--retry", "--timeout", "60s", "--duration", $"{duration.TotalSeconds}s", "--json", .. BrokerArgs(brokers), .. Pace], host.Namespace)));

        /// <summary>Requests a broker has accepted since it started, from its management endpoint (loopback inside its host).</summary>
        public static async Task<long> ReceivedAsync(NetworkHost broker)
        {
            var curl = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in (string[])["netns", "exec", broker.Namespace, "curl", "-sf", "--max-time", "5", "http://127.0.0.1:8080/api/stats"])
            {
                curl.ArgumentList.Add(arg);
            }

            using var process = Process.Start(curl)!;
            var body = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync(Bounded.Token());
            using var stats = JsonDocument.Parse(body);
            return stats.RootElement.GetProperty("counters").GetProperty("received").GetInt64();
        }

        private static string[] BrokerArgs(NetworkHost[] brokers) => [.. brokers.SelectMany(b => new[] { "--broker", b.Endpoint(Port) })];

        private PigatoProcess Add(PigatoProcess process)
        {
            _all.Add(process);
            return process;
        }

        public void Dispose()
        {
            foreach (var process in _all)
            {
                process.Thaw(); // a frozen process cannot die of SIGKILL until it runs again
                process.Dispose();
            }
        }
    }

    /// <summary>A running <c>pigato load</c>.</summary>
    private sealed class LoadProcess(PigatoProcess process)
    {
        /// <summary>Waits until the client reports requests done (its progress line each second).</summary>
        public Task UntilFlowingAsync() =>
            Bounded.UntilAsync(() => process.Output.Any(l => l.Contains(" done ", StringComparison.Ordinal) && !l.Contains(" done 0/", StringComparison.Ordinal)), "the load is flowing");

        public Task<long> FirstLineAfterAsync(long after, string contains, params string[] anyOf) => process.FirstLineAfterAsync(after, contains, anyOf);

        public async Task<LoadSummary> SummaryAsync()
        {
            await process.WaitForExitAsync(TimeSpan.FromSeconds(90));
            var json = process.Output.Last(l => l.StartsWith('{'));
            using var summary = JsonDocument.Parse(json);
            var root = summary.RootElement;
            return new LoadSummary(root.GetProperty("requests").GetInt32(), root.GetProperty("ok").GetInt32(), root.GetProperty("failed").GetRawText(),
                root.GetProperty("timeouts").GetInt32(), root.GetProperty("max_ms").GetDouble(), root.GetProperty("p99_ms").GetDouble());
        }
    }
}
