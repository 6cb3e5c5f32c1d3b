using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Pigato.TestUtilities;

namespace Pigato.Stress;

/// <summary>
/// The non-reading client (issue 26): one raw client sends <see cref="Requests"/> requests of 64 KiB to an echo worker as
/// fast as the broker takes them and never reads a reply, while a bystander client does sequential round trips through
/// the same broker. Measures the broker's RSS (start, peak, after <see cref="SettleFor"/> with the non-reader still
/// connected, and after as long again once it disconnected) and the bystander's latency.
/// </summary>
internal sealed record NonReaderRun(int Requests, TimeSpan SendFor, TimeSpan SettleFor)
{
    private const int PayloadBytes = 64 * 1024;

    public async Task<NonReaderResult> ExecuteAsync(CancellationToken cancellationToken)
    {
        using var broker = await BrokerProcess.StartAsync(cancellationToken);
        Progress($"broker pid {broker.Pid} on {broker.Endpoint}");
        using var logging = LoggerFactory.Create(b => b
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .SetMinimumLevel(LogLevel.Information));
        await using var worker = new Worker(new WorkerOptions { Endpoint = broker.Endpoint, Service = "echo", Concurrency = WorkerOptions.UnlimitedConcurrency, LoggerFactory = logging }, (data, reply, _) => reply.EndAsync(data));
        await worker.StartAsync(cancellationToken);
        await worker.WaitForRegistrationAsync(TimeSpan.FromSeconds(10), cancellationToken);
        await using var bystander = new Client(new ClientOptions { Endpoint = broker.Endpoint, LoggerFactory = logging });
        await bystander.StartAsync(cancellationToken);
        await bystander.RequestAsync<string>("echo", "warm", cancellationToken: cancellationToken);
        var rssStart = broker.RssMegabytes();
        using var rss = new RssSampler(broker);
        Progress($"start RSS {rssStart:0} MB; {Requests:N0} requests of 64 KiB from a client that never reads");

        using var stopProbing = new CancellationTokenSource();
        var probing = RoundTrips.ProbeAsync(bystander, "echo", stopProbing.Token);
        using var nonReader = await ZmtpDealer.ConnectAsync(new IPEndPoint(IPAddress.Loopback, broker.Port), "non-reader", cancellationToken);
        var sent = await SendWithoutReadingAsync(nonReader, broker, cancellationToken);
        var peakSending = rss.Peak;
        Progress($"non-reader sent {sent:N0}; RSS {broker.RssMegabytes():0} MB (peak {peakSending:0}); settling for {SettleFor.TotalSeconds:0} s");

        await SettleAsync(cancellationToken);
        var rssConnected = broker.IsAlive ? broker.RssMegabytes() : 0;

        // Then the non-reader goes: what the broker held for it is dropped, and the memory should go back to the system.
        nonReader.Dispose();
        Progress($"non-reader still connected: RSS {rssConnected:0} MB; it disconnected, settling for {SettleFor.TotalSeconds:0} s");
        await SettleAsync(cancellationToken);
        await stopProbing.CancelAsync();
        var latencies = await probing;
        latencies.Sort();
        double Percentile(double p) => RoundTrips.Percentile(latencies, p);
        return new NonReaderResult(
            Requests: Requests,
            Sent: sent,
            BrokerAlive: broker.IsAlive,
            RssStartMb: rssStart,
            RssPeakMb: rss.Peak,
            RssConnectedMb: rssConnected,
            RssEndMb: broker.IsAlive ? broker.RssMegabytes() : 0,
            BystanderRoundTrips: latencies.Count,
            BystanderFailed: latencies.Count(double.IsPositiveInfinity),
            BystanderP50Ms: Percentile(0.5),
            BystanderP99Ms: Percentile(0.99),
            BystanderMaxMs: latencies.Count == 0 ? double.NaN : latencies[^1]);
    }

    /// <summary>Waits <see cref="SettleFor"/>, a second at a time (the bystander keeps probing meanwhile).</summary>
    private async Task SettleAsync(CancellationToken cancellationToken)
    {
        var settleEnd = Stopwatch.GetTimestamp() + (long)(SettleFor.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < settleEnd)
        {
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>
    /// Raw ZMTP: sends every request as fast as the broker's TCP window allows and never reads a byte of the replies; it
    /// stays connected, unread, through the first settling.
    /// </summary>
    private async Task<int> SendWithoutReadingAsync(ZmtpDealer nonReader, BrokerProcess broker, CancellationToken cancellationToken)
    {
        var data = "\"" + new string('n', PayloadBytes - 2) + "\"";
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(SendFor);
        var sent = 0;
        try
        {
            for (; sent < Requests; sent++)
            {
                await nonReader.SendAsync(bound.Token, "C", "2", "echo", "n" + sent, data, "{}");
                if (sent % 2_000 == 0)
                {
                    Progress($"non-reader: {sent:N0} sent, broker RSS {broker.RssMegabytes():0} MB");
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            Progress($"non-reader: the broker stopped taking its requests after {sent:N0} (send bound {SendFor.TotalSeconds:0} s)");
        }

        return sent;
    }

    private static void Progress(string line) => Console.Error.WriteLine($"{DateTime.Now:HH:mm:ss} {line}");
}

/// <summary>What the non-reader run measured, with the targets of issue 26.</summary>
internal sealed record NonReaderResult(
    int Requests, int Sent, bool BrokerAlive, double RssStartMb, double RssPeakMb, double RssConnectedMb, double RssEndMb,
    int BystanderRoundTrips, int BystanderFailed, double BystanderP50Ms, double BystanderP99Ms, double BystanderMaxMs)
{
    /// <summary>The broker survived and kept serving the bystander; the targets are reported, not enforced (machines differ).</summary>
    public bool Passed => BrokerAlive && BystanderRoundTrips > BystanderFailed;

    public string Table()
    {
        string Mark(bool ok) => ok ? "met" : "MISSED";
        return string.Join(Environment.NewLine,
            "| measure | value | target |",
            "|---|---|---|",
            $"| 64 KiB requests sent by the non-reader | {Sent:N0} of {Requests:N0} | |",
            $"| broker alive at the end | {BrokerAlive} | {Mark(BrokerAlive)} |",
            $"| broker RSS start / peak / settled, non-reader connected / after it left | {RssStartMb:0} / {RssPeakMb:0} / {RssConnectedMb:0} / {RssEndMb:0} MB | peak ≤ 512: {Mark(RssPeakMb <= 512)}; after it left ≤ 2×start+100: {Mark(RssEndMb <= 2 * RssStartMb + 100)} |",
            $"| bystander's round trips | {BystanderRoundTrips:N0}, {BystanderFailed} failed; p50 {BystanderP50Ms:0.0} ms, p99 {BystanderP99Ms:0.0} ms, max {BystanderMaxMs:0.0} ms | p99 ≤ 50: {Mark(BystanderP99Ms <= 50)} |");
    }
}
