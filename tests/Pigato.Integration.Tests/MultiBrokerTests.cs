using System.Collections.Concurrent;
using System.Diagnostics;
using Pigato.TestUtilities;
using Xunit.Abstractions;

namespace Pigato.Integration.Tests;

/// <summary>Several brokers, no central point of failure: workers on every broker, clients failing over.</summary>
public class MultiBrokerTests
{
    [Fact]
    public async Task WorkerRegistersWithEveryBroker_ClientIsServedThroughAll()
    {
        await using var first = await PigatoHarness.StartAsync();
        await using var second = await PigatoHarness.StartAsync();
        string[] endpoints = [first.Endpoint, second.Endpoint];
        await using var worker = new Worker(first.WorkerOptions("echo") with { Endpoint = null, Endpoints = endpoints }, (d, r, _) => r.EndAsync(d));
        await worker.StartAsync();
        await Bounded.UntilAsync(async () => (await first.Broker.GetStatsAsync()).Workers == 1 && (await second.Broker.GetStatsAsync()).Workers == 1, "the worker is registered with both brokers");
        await using var client = new Client(new ClientOptions { Endpoints = endpoints });
        await client.StartAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => client.RequestAsync<int>("echo", i, cancellationToken: Bounded.Token()).AsTask()));

        Assert.Equal(Enumerable.Range(0, 200), answers);
    }

    [Fact]
    public async Task BrokerStoppingGracefully_HandsRetryRequestsToAnotherBroker()
    {
        await using var first = await PigatoHarness.StartAsync();
        await using var second = await PigatoHarness.StartAsync();
        string[] endpoints = [first.Endpoint, second.Endpoint];
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = new Worker(first.WorkerOptions("slow") with { Endpoint = null, Endpoints = endpoints, Concurrency = -1 }, async (d, r, _) =>
        {
            await release.Task;
            await r.EndAsync(d);
        });
        await worker.StartAsync();
        await Bounded.UntilAsync(async () => (await first.Broker.GetStatsAsync()).Workers == 1 && (await second.Broker.GetStatsAsync()).Workers == 1, "the worker is registered with both brokers");
        await using var client = new Client(new ClientOptions { Endpoints = endpoints });
        await client.StartAsync();
        await Bounded.UntilAsync(() => client.IsConnected, "the client hears from a broker");
        var calls = Enumerable.Range(0, 40).Select(i => client.RequestAsync<int>("slow", i, new RequestOptions { Retry = true }, Bounded.Token()).AsTask()).ToArray();
        await Bounded.UntilAsync(async () => (await first.Broker.GetStatsAsync()).InFlightRequests > 0, "the first broker holds requests");

        await first.Broker.StopAsync();
        release.SetResult();

        Assert.Equal(Enumerable.Range(0, 40), await Task.WhenAll(calls).WithinAsync("every request, through the second broker"));
    }
}

/// <summary>Brokers as processes, killed with -9 mid-load: the failover guarantees.</summary>
public class NoBrokerTests
{
    [Fact]
    public async Task WithoutALiveBroker_ARequestWaits_OrFailsFastByOption()
    {
        var nowhere = Ports.FreeEndpoint();
        await using var patient = new Client(new ClientOptions { Endpoint = nowhere });
        await patient.StartAsync();
        await using var hasty = new Client(new ClientOptions { Endpoint = nowhere, FailFastWithoutBroker = true });
        await hasty.StartAsync();

        var error = await Assert.ThrowsAsync<PigatoException>(() => hasty.RequestAsync<string>("echo", null).AsTask().WithinAsync("the fast failure"));
        Assert.Equal(PigatoErrorCodes.NoBroker, error.Code);

        var waiting = patient.RequestAsync<string>("echo", "late", cancellationToken: Bounded.Token()).AsTask();
        await using var broker = new Broker(new BrokerOptions { Endpoint = nowhere, InternalEndpoint = null });
        await broker.StartAsync();
        await using var worker = new Worker(new WorkerOptions { Endpoint = nowhere, Service = "echo" }, (d, r, _) => r.EndAsync(d));
        await worker.StartAsync();

        Assert.Equal("late", await waiting.WithinAsync("the request that waited for a broker"));
    }

    [Fact]
    public async Task FailWithoutWorkers_OneBrokerWithout_AnotherWith_IsServed_NoneWith_FailsAtOnce()
    {
        await using var first = await PigatoHarness.StartAsync();
        await using var second = await PigatoHarness.StartAsync();
        await using var worker = new Worker(second.WorkerOptions("only-second"), (d, r, _) => r.EndAsync(d));
        await worker.StartAsync();
        await worker.WaitForRegistrationAsync(Bounded.Timeout);
        await using var client = new Client(new ClientOptions { Endpoints = [first.Endpoint, second.Endpoint], FailWithoutWorkers = true });
        await client.StartAsync();
        await Bounded.UntilAsync(() => client.IsConnected, "the client hears a broker");

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(i, await client.RequestAsync<int>("only-second", i, cancellationToken: Bounded.Token()));
        }

        var error = await Assert.ThrowsAsync<PigatoBrokerException>(() => client.RequestAsync<int>("nowhere", 1, cancellationToken: Bounded.Token()).AsTask());
        Assert.Equal(PigatoErrorCodes.NoWorkers, error.Code);
    }
}
