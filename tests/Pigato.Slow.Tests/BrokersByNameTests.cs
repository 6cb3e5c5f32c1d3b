using System.Diagnostics;
using Pigato.TestUtilities;
using Xunit.Abstractions;

namespace Pigato.Slow.Tests;

/// <summary>
/// Brokers found by name (<c>dns+srv://</c>) from a real DNS server (dnsmasq on a free local port): a client and a worker
/// follow the brokers the name lists while <c>retry</c> requests flow; a broker added is used, one removed is let go,
/// and no request fails.
/// </summary>
public sealed class BrokersByNameTests(ITestOutputHelper output)
{
    private const string Name = "brokers.test";
    private const string Service = "dns+srv://_pigato._tcp." + Name;
    private static readonly TimeSpan Refresh = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task AnAddressName_IsLookedUp_AndANameWithoutRecordsFailsTheStartClearly()
    {
        await using var broker = await PigatoHarness.StartAsync();
        using var dns = await DnsServer.StartAsync(Name, [broker.Endpoint]);
        await broker.StartWorkerAsync("echo", (data, reply, _) => reply.EndAsync(data));
        var port = new Uri(broker.Endpoint).Port;

        await using var client = new Client(new ClientOptions { Endpoint = $"dns://broker.{Name}:{port}", DnsServer = dns.Address });
        await client.StartAsync();
        Assert.Equal("hi", await client.RequestAsync<string>("echo", "hi", cancellationToken: Bounded.Token()));

        await using var lost = new Client(new ClientOptions { Endpoint = $"dns://nowhere.{Name}:{port}", DnsServer = dns.Address });
        var error = await Assert.ThrowsAsync<PigatoException>(() => lost.StartAsync());
        Assert.Equal(PigatoErrorCodes.NoBroker, error.Code);
        Assert.Contains($"nowhere.{Name}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrokersAddedAndRemovedFromTheName_AreFollowedUnderLoad_NoRetryRequestFails()
    {
        await using var first = await PigatoHarness.StartAsync(new BrokerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(500) });
        await using var second = await PigatoHarness.StartAsync(new BrokerOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(500) });
        using var dns = await DnsServer.StartAsync(Name, [first.Endpoint]);
        await using var worker = new Worker(
            new WorkerOptions { Endpoints = [Service], DnsServer = dns.Address, DnsRefreshInterval = Refresh, Service = "echo", Concurrency = 20, HeartbeatInterval = TimeSpan.FromMilliseconds(500) },
            (data, reply, _) => reply.EndAsync(data));
        await worker.StartAsync();
        await using var client = new Client(new ClientOptions { Endpoints = [Service], DnsServer = dns.Address, DnsRefreshInterval = Refresh, HeartbeatInterval = TimeSpan.FromMilliseconds(500) });
        await client.StartAsync();
        Assert.Equal("hi", await client.RequestAsync<string>("echo", "hi", cancellationToken: Bounded.Token()));

        using var stop = new CancellationTokenSource();
        var failed = 0;
        var answered = 0;
        var load = Task.WhenAll(Enumerable.Range(0, 20).Select(lane => Task.Run(async () =>
        {
            for (var i = 0; i < 10_000 && !stop.IsCancellationRequested; i++)
            {
                try
                {
                    Assert.Equal(i, await client.RequestAsync<int>("echo", i, new RequestOptions { Retry = true, Timeout = TimeSpan.FromSeconds(20) }));
                    Interlocked.Increment(ref answered);
                }
                catch (PigatoException e)
                {
                    Interlocked.Increment(ref failed);
                    output.WriteLine($"lane {lane}: {e.Code} {e.Message}");
                }
            }
        })));

        // A second broker appears under the name: the worker registers with it and the client sends it requests.
        var added = Stopwatch.StartNew();
        await dns.ServeAsync(Name, [first.Endpoint, second.Endpoint]);
        await Bounded.UntilAsync(async () => (await second.Broker.GetSnapshotAsync()).Counters.Completed > 0, "the added broker to serve requests");
        output.WriteLine($"added broker serving after {added.ElapsedMilliseconds} ms (refresh every {Refresh.TotalMilliseconds} ms)");

        // The first one leaves the name: both let it go, and the load goes on through the second.
        await dns.ServeAsync(Name, [second.Endpoint]);
        await Bounded.UntilAsync(async () => (await first.Broker.GetStatsAsync()) is { Workers: 0, Clients: 0 }, "the removed broker to be let go");
        var before = (await second.Broker.GetSnapshotAsync()).Counters.Completed;
        await Bounded.UntilAsync(async () => (await second.Broker.GetSnapshotAsync()).Counters.Completed > before + 100, "requests to go on through the remaining broker");

        await stop.CancelAsync();
        await load.WithinAsync("the load to finish");
        output.WriteLine($"{answered} answered, {failed} failed");
        Assert.Equal(0, failed);
        Assert.True(answered > 100);
    }
}
