using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Pigato;
using Pigato.Stress;
using Pigato.TestUtilities;

// NetMQ's socket I/O completes inline (README): set before any socket exists.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");

if (args is ["role", "broker", var endpoint, var intch, .. var extra])
{
    // `pigato broker`, exactly as the tool runs it (with the scenario's options), until this process is killed.
    return await Pigato.Cli.PigatoCli.RunAsync(["broker", "--bind", endpoint, "--intch", intch, "--no-directory", .. extra], Console.Out, Console.Error);
}

var seconds = new Option<int>("--seconds") { Description = "How long the abuse lasts.", DefaultValueFactory = _ => 60 };
var quick = new Option<bool>("--quick") { Description = "A short run for CI: 10 s of abuse, 2,000 READY, 10 s to settle." };
var seed = new Option<int>("--seed") { Description = "Seed of the random traffic.", DefaultValueFactory = _ => 1 };
var ready = new Option<int>("--ready") { Description = "READY messages from distinct identities in the flood.", DefaultValueFactory = _ => 10_000 };
var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file." };
var scenario = new Option<string>("--scenario") { Description = "abuse: malformed and hostile traffic, then a READY flood; non-reader: a client sends 20,000 requests of 64 KiB and never reads a reply while another does round trips; noisy-neighbour: a client keeps 1,000 requests in flight to a service while another does round trips to it, with fair queuing per client and without.", DefaultValueFactory = _ => "abuse" };
scenario.AcceptOnlyFromAmong("abuse", "non-reader", "noisy-neighbour");
var root = new RootCommand("Throws abusive traffic at `pigato broker` (a separate process, 127.0.0.1 only) and reports its memory, health and READY-flood time.")
{
    seconds, quick, seed, ready, json, scenario,
};
root.SetAction(async (parse, cancellationToken) =>
{
    var isQuick = parse.GetValue(quick);
    if (parse.GetValue(scenario) == "noisy-neighbour")
    {
        var runs = new List<NoisyNeighbourResult>();
        // As fast as it can, then paced (its own work then the same whatever the setting: the flood's throughput compares).
        foreach (var pace in (TimeSpan?[])[null, TimeSpan.FromMilliseconds(100)])
        {
            foreach (var fairness in (string[])["client", "none"])
            {
                runs.Add(await new NoisyNeighbourRun(fairness, FloodFor: TimeSpan.FromSeconds(isQuick ? 5 : 20), pace).ExecuteAsync(cancellationToken));
            }
        }

        Console.WriteLine(NoisyNeighbourResult.Table(runs));
        if (parse.GetValue(json) is { } noisyFile)
        {
            await File.WriteAllTextAsync(noisyFile.FullName, JsonSerializer.Serialize(runs, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }), cancellationToken);
        }

        return runs.TrueForAll(r => r.Passed) ? 0 : 1;
    }

    if (parse.GetValue(scenario) == "non-reader")
    {
        var nonReader = await new NonReaderRun(Requests: isQuick ? 2_000 : 20_000, SendFor: TimeSpan.FromSeconds(isQuick ? 20 : 120), SettleFor: TimeSpan.FromSeconds(isQuick ? 5 : 30)).ExecuteAsync(cancellationToken);
        Console.WriteLine(nonReader.Table());
        if (parse.GetValue(json) is { } nonReaderFile)
        {
            await File.WriteAllTextAsync(nonReaderFile.FullName, JsonSerializer.Serialize(nonReader, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }), cancellationToken);
        }

        return nonReader.Passed ? 0 : 1;
    }

    var run = new StressRun(
        AbuseFor: TimeSpan.FromSeconds(isQuick ? 10 : parse.GetValue(seconds)),
        SettleFor: TimeSpan.FromSeconds(isQuick ? 10 : 30),
        ReadyCount: isQuick && parse.GetResult(ready) is null or { Implicit: true } ? 2_000 : parse.GetValue(ready),
        Seed: parse.GetValue(seed));
    var result = await run.ExecuteAsync(cancellationToken);
    Console.WriteLine(result.Table());
    if (parse.GetValue(json) is { } file)
    {
        await File.WriteAllTextAsync(file.FullName, JsonSerializer.Serialize(result, new JsonSerializerOptions(JsonSerializerOptions.Web) { WriteIndented = true }), cancellationToken);
    }

    // Failure is a crash or an unanswered health check; the targets are reported, not enforced (machines differ).
    return result.BrokerAlive && result.HealthOk == result.HealthTotal && result.ReadyAnswered == result.ReadyCount ? 0 : 1;
});
return await root.Parse(args).InvokeAsync();

/// <summary>One run: start the broker, abuse it while checking its health, flood it with READY, let it settle.</summary>
internal sealed record StressRun(TimeSpan AbuseFor, TimeSpan SettleFor, int ReadyCount, int Seed)
{
    public async Task<StressResult> ExecuteAsync(CancellationToken cancellationToken)
    {
        using var broker = await BrokerProcess.StartAsync(cancellationToken);
        Progress($"broker pid {broker.Pid} on {broker.Endpoint}");
        await using var worker = new Worker(new WorkerOptions { Endpoint = broker.Endpoint, Service = "echo", Concurrency = -1 }, (data, reply, _) => reply.EndAsync(data));
        await worker.StartAsync(cancellationToken);
        await using var client = new Client(new ClientOptions { Endpoint = broker.Endpoint });
        await client.StartAsync(cancellationToken);
        await Health(client, cancellationToken);
        var rss = new RssSampler(broker);
        var rssStart = broker.RssMegabytes();
        Progress($"start RSS {rssStart:0} MB; abuse for {AbuseFor.TotalSeconds:0} s");

        var health = new List<double>();
        var healthFailed = 0;
        var abuse = new Abuse(broker.Endpoint, Seed, DateTime.UtcNow + AbuseFor);
        var abusing = abuse.RunAsync();
        while (!abusing.IsCompleted)
        {
            var latency = await Health(client, cancellationToken);
            if (latency is { } ms)
            {
                health.Add(ms);
            }
            else
            {
                healthFailed++;
            }

            Progress($"abuse: {abuse.Sent:N0} sent, RSS {broker.RssMegabytes():0} MB (peak {rss.Peak:0}), health {(latency is { } l ? l.ToString("0.0", CultureInfo.InvariantCulture) + " ms" : "FAILED")}");
            await Task.WhenAny(abusing, Task.Delay(TimeSpan.FromSeconds(2), cancellationToken));
        }

        await abusing;
        var abusePeak = rss.Peak;
        Progress($"READY flood: {ReadyCount:N0} identities over 24 services");
        var (floodMs, answered, probeMax) = await ReadyFloodAsync(broker, client, cancellationToken);
        Progress($"READY flood answered {answered:N0} in {floodMs:0} ms; idle client's round trip at most {probeMax:0.0} ms meanwhile");

        Progress($"settling for {SettleFor.TotalSeconds:0} s");
        var settleEnd = DateTime.UtcNow + SettleFor;
        while (DateTime.UtcNow < settleEnd)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }

        var final = await Health(client, cancellationToken);
        if (final is { } f)
        {
            health.Add(f);
        }
        else
        {
            healthFailed++;
        }

        rss.Dispose();
        return new StressResult(
            AbuseSeconds: AbuseFor.TotalSeconds,
            Seed: Seed,
            BrokerAlive: broker.IsAlive,
            RssStartMb: rssStart,
            RssPeakAbuseMb: abusePeak,
            RssPeakMb: rss.Peak,
            RssEndMb: broker.IsAlive ? broker.RssMegabytes() : 0,
            HealthOk: health.Count,
            HealthTotal: health.Count + healthFailed,
            HealthMaxMs: health.Count == 0 ? 0 : health.Max(),
            ReadyCount: ReadyCount,
            ReadyAnswered: answered,
            ReadyFloodMs: floodMs,
            ProbeMaxMsDuringFlood: probeMax,
            MessagesSent: abuse.Sent,
            Answers: abuse.Answers.OrderByDescending(a => a.Value).Take(12).ToDictionary(a => a.Key, a => a.Value));
    }

    private static void Progress(string line) => Console.Error.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");

    /// <summary>An echo round trip, in ms, or null when it fails within 5 s.</summary>
    private static async Task<double?> Health(Client client, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await client.RequestAsync<string>("echo", "ping", new RequestOptions { Timeout = TimeSpan.FromSeconds(5) }, cancellationToken);
            return clock.Elapsed.TotalMilliseconds;
        }
        catch (PigatoException)
        {
            return null;
        }
    }

    /// <summary>READY from distinct identities (raw ZMTP peers), then they vanish without a DISCONNECT; an idle client probes meanwhile.</summary>
    private async Task<(double Ms, int Answered, double ProbeMax)> ReadyFloodAsync(BrokerProcess broker, Client client, CancellationToken cancellationToken)
    {
        var endpoint = new IPEndPoint(IPAddress.Loopback, broker.Port);
        var peers = new ZmtpDealer[ReadyCount];
        using var connecting = new SemaphoreSlim(200);
        await Task.WhenAll(Enumerable.Range(0, ReadyCount).Select(async i =>
        {
            await connecting.WaitAsync(cancellationToken);
            try
            {
                peers[i] = await ZmtpDealer.ConnectAsync(endpoint, $"flood-{Seed}-{i}", cancellationToken);
            }
            finally
            {
                connecting.Release();
            }
        }));

        using var stop = new CancellationTokenSource();
        var probes = Task.Run(async () =>
        {
            var max = 0.0;
            while (!stop.IsCancellationRequested)
            {
                max = Math.Max(max, await Health(client, CancellationToken.None) ?? 5000);
                await Task.Delay(20, CancellationToken.None);
            }

            return max;
        }, CancellationToken.None);

        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        var answered = 0;
        await Task.WhenAll(peers.Select(async (peer, i) =>
        {
            await peer.SendAsync(bound.Token, "W", "1", "flood" + (i % 24));
            var answer = await peer.ReceiveAsync(bound.Token);
            if (answer is ["W", "1"])
            {
                Interlocked.Increment(ref answered);
            }
        }));
        var elapsed = clock.Elapsed.TotalMilliseconds;
        await stop.CancelAsync();
        var probeMax = await probes;
        foreach (var peer in peers)
        {
            peer.Dispose();
        }

        return (elapsed, answered, probeMax);
    }
}

/// <summary>What a run measured.</summary>
internal sealed record StressResult(
    double AbuseSeconds, int Seed, bool BrokerAlive, double RssStartMb, double RssPeakAbuseMb, double RssPeakMb, double RssEndMb,
    int HealthOk, int HealthTotal, double HealthMaxMs, int ReadyCount, int ReadyAnswered, double ReadyFloodMs,
    double ProbeMaxMsDuringFlood, long MessagesSent, Dictionary<string, long> Answers)
{
    public string Table()
    {
        string Mark(bool ok) => ok ? "met" : "MISSED";
        var settled = RssEndMb <= 2 * RssStartMb + 100;
        return string.Join(Environment.NewLine,
            "| measure | value | target |",
            "|---|---|---|",
            $"| broker alive at the end | {BrokerAlive} | {Mark(BrokerAlive)} |",
            $"| health checks answered | {HealthOk}/{HealthTotal}, slowest {HealthMaxMs:0.0} ms | {Mark(HealthOk == HealthTotal)} |",
            $"| broker RSS start / peak in the abuse / peak in the READY flood / end | {RssStartMb:0} / {RssPeakAbuseMb:0} / {RssPeakMb:0} / {RssEndMb:0} MB | peak ≤ 1024: {Mark(RssPeakMb <= 1024)}; end ≤ 2×start+100: {Mark(settled)} |",
            $"| {ReadyCount:N0} READY answered | {ReadyAnswered:N0} in {ReadyFloodMs:0} ms | ≤ 1000 ms: {Mark(ReadyAnswered == ReadyCount && ReadyFloodMs <= 1000)} |",
            $"| idle client's round trip during the flood | at most {ProbeMaxMsDuringFlood:0.0} ms | ≤ 50 ms: {Mark(ProbeMaxMsDuringFlood <= 50)} |",
            $"| abusive messages sent in {AbuseSeconds:0} s (seed {Seed}) | {MessagesSent:N0} | |",
            $"| answers the abusers got | {string.Join(", ", Answers.Select(a => $"{a.Key} {a.Value:N0}"))} | |");
    }
}
