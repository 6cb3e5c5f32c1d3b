using System.Collections.Concurrent;
using System.Diagnostics;
using Pigato.TestUtilities;
using Xunit.Abstractions;

namespace Pigato.Slow.Tests;

public class BrokerCrashTests(ITestOutputHelper output)
{
    [Fact]
    public async Task OneOfThreeBrokersKilled_EveryRetryRequestGetsExactlyOneSuccessfulReply_WorkersStayWithinConcurrency()
    {
        using var b1 = await PigatoProcess.StartBrokerAsync();
        using var b2 = await PigatoProcess.StartBrokerAsync();
        using var b3 = await PigatoProcess.StartBrokerAsync();
        string[] endpoints = [b1.Endpoint, b2.Endpoint, b3.Endpoint];
        const int Concurrency = 40;
        var overBudget = 0;
        var workers = new List<Worker>();
        for (var w = 0; w < 4; w++)
        {
            var running = 0;
            var worker = new Worker(new WorkerOptions { Endpoints = endpoints, Service = "echo", Concurrency = Concurrency, HeartbeatInterval = TimeSpan.FromMilliseconds(500) }, async (d, r, _) =>
            {
                if (Interlocked.Increment(ref running) > Concurrency)
                {
                    Interlocked.Increment(ref overBudget);
                }

                await Task.Yield();
                Interlocked.Decrement(ref running);
                await r.EndAsync(d);
            });
            await worker.StartAsync();
            workers.Add(worker);
        }

        var clients = new List<Client>();
        for (var c = 0; c < 2; c++)
        {
            var client = new Client(new ClientOptions { Endpoints = endpoints, HeartbeatInterval = TimeSpan.FromMilliseconds(500) });
            await client.StartAsync();
            await Bounded.UntilAsync(() => client.IsConnected, "the client hears from a broker");
            clients.Add(client);
        }

        const int Total = 20_000;
        const int InFlight = 1_000;
        var answers = new ConcurrentDictionary<int, int>();
        var clock = Stopwatch.StartNew();
        long killedAt = 0, firstReplyAfterKill = 0, lastInFlightAtKill = 0;
        using var gate = new SemaphoreSlim(InFlight);
        var calls = new List<Task>();
        for (var i = 0; i < Total; i++)
        {
            await gate.WaitAsync(Bounded.Token(TimeSpan.FromSeconds(60)));
            if (i == Total / 2)
            {
                b1.Kill();
                killedAt = clock.ElapsedTicks;
            }

            var n = i;
            var sentBeforeKill = killedAt == 0;
            var client = clients[n % clients.Count];
            calls.Add(Task.Run(async () =>
            {
                try
                {
                    var answer = await client.RequestAsync<int>("echo", n, new RequestOptions { Retry = true, Timeout = TimeSpan.FromSeconds(30) }, Bounded.Token(TimeSpan.FromSeconds(60)));
                    answers.AddOrUpdate(answer, 1, (_, c) => c + 1);
                    var now = clock.ElapsedTicks;
                    if (Interlocked.Read(ref killedAt) > 0)
                    {
                        Interlocked.CompareExchange(ref firstReplyAfterKill, now, 0);
                        if (sentBeforeKill)
                        {
                            InterlockedMax(ref lastInFlightAtKill, now);
                        }
                    }
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await Task.WhenAll(calls).WithinAsync("every request", TimeSpan.FromSeconds(120));
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        foreach (var worker in workers)
        {
            await worker.DisposeAsync();
        }

        double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
        output.WriteLine($"kill -9 of one of three brokers at request {Total / 2:N0}: next reply {Ms(firstReplyAfterKill - killedAt):0} ms later; every request in flight at the kill answered {Ms(lastInFlightAtKill - killedAt):0} ms after it");
        Assert.Equal(Total, answers.Count);
        Assert.All(answers.Values, count => Assert.Equal(1, count));
        Assert.Equal(0, overBudget);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        var current = Interlocked.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    [Fact]
    public async Task BrokerKilled_RequestsWithoutRetryFailWithBrokerLost_NotATimeout_OthersAreServed()
    {
        // The second broker starts later, so that every request goes to the first one (the only one answering).
        using var b1 = await PigatoProcess.StartBrokerAsync();
        var secondEndpoint = Ports.FreeEndpoint();
        string[] endpoints = [b1.Endpoint, secondEndpoint];
        await using var worker = new Worker(new WorkerOptions { Endpoints = endpoints, Service = "hold", Concurrency = -1, HeartbeatInterval = TimeSpan.FromMilliseconds(500) }, async (d, r, _) =>
        {
            if (d.GetInt32() >= 0)
            {
                await Task.Delay(Timeout.Infinite, r.CancellationToken).ContinueWith(_ => { });
            }

            await r.EndAsync(d);
        });
        await worker.StartAsync();
        await using var client = new Client(new ClientOptions { Endpoints = endpoints, HeartbeatInterval = TimeSpan.FromMilliseconds(500) });
        await client.StartAsync();
        await Bounded.UntilAsync(() => client.IsConnected, "the client hears from the first broker");
        var calls = Enumerable.Range(0, 20).Select(i => client.RequestAsync<int>("hold", i, new RequestOptions { Timeout = TimeSpan.FromSeconds(60) }).AsTask()).ToArray();
        await Bounded.UntilAsync(() => client.PendingCount == 20, "the requests are pending");
        using var b2 = await PigatoProcess.StartBrokerAsync(secondEndpoint);

        var clock = Stopwatch.StartNew();
        b1.Kill();
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<PigatoException>(() => call.WithinAsync("the lost broker's request to fail"));
            Assert.Equal(PigatoErrorCodes.BrokerLost, error.Code);
        }

        output.WriteLine($"all 20 requests held by the killed broker failed with ERR_BROKER_LOST {clock.ElapsedMilliseconds} ms after the kill");
        Assert.Equal(-1, await client.RequestAsync<int>("hold", -1, cancellationToken: Bounded.Token()));
    }

    [Fact]
    public async Task RollingRestartOfThreeBrokers_UnderSteadyLoad_NoRetryRequestFails()
    {
        var brokers = new[] { await PigatoProcess.StartBrokerAsync(), await PigatoProcess.StartBrokerAsync(), await PigatoProcess.StartBrokerAsync() };
        try
        {
            var endpoints = brokers.Select(b => b.Endpoint).ToArray();
            await using var worker = new Worker(new WorkerOptions { Endpoints = endpoints, Service = "echo", Concurrency = 50, HeartbeatInterval = TimeSpan.FromMilliseconds(500) }, (d, r, _) => r.EndAsync(d));
            await worker.StartAsync();
            await using var client = new Client(new ClientOptions { Endpoints = endpoints, HeartbeatInterval = TimeSpan.FromMilliseconds(500) });
            await client.StartAsync();
            await Bounded.UntilAsync(() => client.IsConnected, "the client hears from a broker");

            using var stop = new CancellationTokenSource();
            var failures = new ConcurrentBag<string>();
            var answered = 0;
            var load = Task.Run(async () =>
            {
                using var slots = new SemaphoreSlim(50);
                var calls = new List<Task>();
                for (var i = 0; !stop.IsCancellationRequested && i < 200_000; i++)
                {
                    await slots.WaitAsync();
                    var n = i;
                    calls.Add(Task.Run(async () =>
                    {
                        try
                        {
                            Assert.Equal(n, await client.RequestAsync<int>("echo", n, new RequestOptions { Retry = true, Timeout = TimeSpan.FromSeconds(30) }, Bounded.Token(TimeSpan.FromSeconds(60))));
                            Interlocked.Increment(ref answered);
                        }
                        catch (Exception e)
                        {
                            failures.Add(e.Message);
                        }
                        finally
                        {
                            slots.Release();
                        }
                    }));
                }

                await Task.WhenAll(calls);
            });

            for (var b = 0; b < brokers.Length; b++)
            {
                var before = Volatile.Read(ref answered);
                await Bounded.UntilAsync(() => Volatile.Read(ref answered) > before + 500, "requests flow before the restart");
                var endpoint = brokers[b].Endpoint;
                brokers[b].Dispose();
                brokers[b] = await PigatoProcess.StartBrokerAsync(endpoint);
                var restarted = Volatile.Read(ref answered);
                await Bounded.UntilAsync(() => Volatile.Read(ref answered) > restarted + 500, $"requests flow after restarting broker {b + 1}");
            }

            await stop.CancelAsync();
            await load.WithinAsync("the load to finish", TimeSpan.FromSeconds(90));
            output.WriteLine($"{answered:N0} requests answered across a rolling restart of three brokers; {failures.Count} failed");
            Assert.Empty(failures);
        }
        finally
        {
            foreach (var broker in brokers)
            {
                broker.Dispose();
            }
        }
    }
}

/// <summary>What a client does when no broker is live.</summary>
