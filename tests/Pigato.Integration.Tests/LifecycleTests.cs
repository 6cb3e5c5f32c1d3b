using Pigato.TestUtilities;
using Pigato.Protocol;

namespace Pigato.Integration.Tests;

/// <summary>Start, stop and restart of every actor, reconnection, lost workers, and resource leaks.</summary>
public class LifecycleTests
{
    private static readonly TimeSpan Fast = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task StartStopRestart_FireEvents_ForBrokerWorkerAndClient()
    {
        var events = new Dictionary<string, List<string>> { ["broker"] = [], ["worker"] = [], ["client"] = [] };
        void Record(string actor, string e)
        {
            lock (events)
            {
                events[actor].Add(e);
            }
        }

        await using var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = null });
        broker.Started += (_, _) => Record("broker", "started");
        broker.Stopped += (_, _) => Record("broker", "stopped");
        await broker.StartAsync();
        var endpoint = broker.Endpoint!;
        await using var worker = new Worker(new WorkerOptions { Endpoint = endpoint, Service = "echo" }, (d, r, _) => r.EndAsync(d));
        worker.Started += (_, _) => Record("worker", "started");
        worker.Connected += (_, _) => Record("worker", "connected");
        worker.Stopped += (_, _) => Record("worker", "stopped");
        await using var client = new Client(new ClientOptions { Endpoint = endpoint });
        client.Started += (_, _) => Record("client", "started");
        client.Connected += (_, _) => Record("client", "connected");
        client.Stopped += (_, _) => Record("client", "stopped");

        for (var round = 0; round < 2; round++)
        {
            await worker.StartAsync();
            await client.StartAsync();
            Assert.Equal("hi", await client.RequestAsync<string>("echo", "hi", cancellationToken: Bounded.Token()));
            await Bounded.UntilAsync(() => client.IsConnected && worker.IsConnected, "client and worker are connected");
            await client.StopAsync();
            await worker.StopAsync();
        }

        await broker.StopAsync();
        await broker.StartAsync();
        Assert.True(broker.IsRunning);
        await broker.StopAsync();

        lock (events)
        {
            Assert.Equal(["started", "stopped", "started", "stopped"], events["broker"]);
            Assert.Equal(["started", "connected", "stopped", "started", "connected", "stopped"], events["worker"]);
            Assert.Equal(["started", "connected", "stopped", "started", "connected", "stopped"], events["client"]);
        }
    }

    [Fact]
    public async Task WaitForRegistration_CompletesOnceTheBrokerAcknowledges_AfterTheBrokerStartsLate()
    {
        var endpoint = Ports.FreeEndpoint();
        await using var worker = new Worker(new WorkerOptions { Endpoint = endpoint, Service = "late" }, (d, r, _) => r.EndAsync(d));
        await Assert.ThrowsAsync<InvalidOperationException>(() => worker.WaitForRegistrationAsync(Bounded.Timeout));
        await worker.StartAsync();
        var registered = worker.WaitForRegistrationAsync(Bounded.Timeout);

        await using var broker = new Broker(new BrokerOptions { Endpoint = endpoint, InternalEndpoint = null });
        await broker.StartAsync();
        await registered.WithinAsync("the registration acknowledged");

        Assert.True(worker.IsConnected);
        Assert.Equal(1, (await broker.GetStatsAsync()).Workers);
    }

    [Fact]
    public async Task WaitForRegistration_WithoutABroker_FailsAfterItsTimeout_NamingTheEndpoint()
    {
        var endpoint = Ports.FreeEndpoint();
        await using var worker = new Worker(new WorkerOptions { Endpoint = endpoint, Service = "alone" }, (d, r, _) => r.EndAsync(d));
        await worker.StartAsync();

        var error = await Assert.ThrowsAsync<PigatoException>(() => worker.WaitForRegistrationAsync(TimeSpan.FromMilliseconds(300)));

        Assert.Equal(PigatoErrorCodes.NoBroker, error.Code);
        Assert.Contains(endpoint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BrokerRestart_WorkerAndClientReconnect_AndServeAgain()
    {
        var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = null, HeartbeatInterval = Fast });
        await broker.StartAsync();
        var endpoint = broker.Endpoint!;
        await using var worker = new Worker(new WorkerOptions { Endpoint = endpoint, Service = "echo", HeartbeatInterval = Fast }, (d, r, _) => r.EndAsync(d));
        await using var client = new Client(new ClientOptions { Endpoint = endpoint, HeartbeatInterval = Fast });
        var workerConnections = 0;
        worker.Connected += (_, _) => Interlocked.Increment(ref workerConnections);
        await worker.StartAsync();
        await client.StartAsync();
        Assert.Equal("one", await client.RequestAsync<string>("echo", "one", cancellationToken: Bounded.Token()));

        await broker.DisposeAsync();
        await using var again = new Broker(new BrokerOptions { Endpoint = endpoint, InternalEndpoint = null, HeartbeatInterval = Fast });

        // NetMQ closes a listener asynchronously: the port may stay taken for a moment after dispose.
        await Bounded.UntilAsync(() => TryStart(again), "the port is free again");

        await Bounded.UntilAsync(() => Volatile.Read(ref workerConnections) >= 2, "the worker registers with the new broker");
        // Retry: should the client's connection still be cycling when it sends, the request is sent again.
        Assert.Equal("two", await client.RequestAsync<string>("echo", "two", new RequestOptions { Timeout = TimeSpan.FromSeconds(10), Retry = true }, Bounded.Token()));
    }

    private static bool TryStart(Broker broker)
    {
        try
        {
            broker.StartAsync().GetAwaiter().GetResult();
            return true;
        }
        catch (PigatoException e) when (e.Code == "ERR_BIND")
        {
            return false;
        }
    }

    [Fact]
    public async Task BrokerSilent_ClientReconnectsUnderNewIdentity()
    {
        using var silent = RawSocket.Router();
        await using var client = new Client(new ClientOptions { Endpoint = silent.Endpoint, HeartbeatInterval = TimeSpan.FromMilliseconds(250), Prefix = "cli" });
        await client.StartAsync();

        // Answer heartbeats until the client counts as connected (on a loaded machine it may already have retried).
        for (var i = 0; i < 100 && !client.IsConnected; i++)
        {
            if (silent.TryReceive(TimeSpan.FromMilliseconds(100)) is [var identity, "C", "4"])
            {
                silent.Send(identity, "C", "4");
            }
        }

        await Bounded.UntilAsync(() => client.IsConnected, "the client is connected");
        var first = client.Id!;
        var disconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        client.Disconnected += (_, _) => disconnected.TrySetResult();

        await disconnected.Task.WithinAsync("the client to give up on the silent broker");

        // Heartbeats of the old identity may still be queued: skip them (each receive is itself bounded).
        var second = first;
        for (var i = 0; i < 50 && second == first; i++)
        {
            second = silent.ReceiveMatching(1, "C", "4")[0];
        }

        Assert.NotEqual(first, second);

        Assert.StartsWith("cli-", second);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClientReconnect_WithPendingRequest_FailsItOrResendsItWithRetry(bool retry)
    {
        using var silent = RawSocket.Router();
        await using var client = new Client(new ClientOptions { Endpoint = silent.Endpoint, HeartbeatInterval = TimeSpan.FromMilliseconds(100) });
        await client.StartAsync();
        var call = client.RequestAsync<string>("svc", null, new RequestOptions { Retry = retry }, Bounded.Token()).AsTask();
        var sent = silent.ReceiveMatching(1, "C", "2");

        // The raw broker never answers, so the client reconnects under a new identity.
        if (!retry)
        {
            var error = await Assert.ThrowsAsync<PigatoException>(() => call.WithinAsync("the request to fail"));
            Assert.Equal(PigatoErrorCodes.BrokerLost, error.Code);
            return;
        }

        var resent = silent.ReceiveMatching(1, "C", "2", "svc");
        Assert.NotEqual(sent[0], resent[0]);
        Assert.NotEqual(sent[4], resent[4]);
        silent.Send(resent[0], "C", "3", "", resent[4], "0", "\"again\"", "{}");
        Assert.Equal("again", await call.WithinAsync("the resent request's reply"));
        Assert.Equal(0, client.PendingCount);
    }

    [Fact]
    public async Task BrokerStop_FailsHeldRequests_WithBrokerStopped()
    {
        var harness = await PigatoHarness.StartAsync();
        await using var _ = harness;
        var client = await harness.StartClientAsync();
        var call = client.RequestAsync<string>("nobody", null, cancellationToken: Bounded.Token()).AsTask();
        await Bounded.UntilAsync(async () => (await harness.Broker.GetStatsAsync()).QueuedRequests == 1, "the request is queued");

        await harness.Broker.StopAsync();

        var error = await Assert.ThrowsAsync<PigatoBrokerException>(() => call.WithinAsync("the failed request"));
        Assert.Equal("ERR_BROKER_STOPPED", error.Code);
    }

    [Fact]
    public async Task ClientStop_FailsPendingRequests()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var client = await harness.StartClientAsync();
        var call = client.RequestAsync<string>("nobody", null).AsTask();

        await client.StopAsync();

        var error = await Assert.ThrowsAsync<PigatoException>(() => call.WithinAsync("the failed request"));
        Assert.Equal("ERR_CLIENT_STOPPED", error.Code);
        var late = await Assert.ThrowsAsync<PigatoException>(() => client.RequestAsync<string>("x", null).AsTask());
        Assert.Equal(PigatoErrorCodes.NotRunning, late.Code);
    }

    [Fact]
    public async Task WorkerLostMidRequest_WithoutRetry_ClientGetsWorkerLostPromptly()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = await harness.StartWorkerAsync("slow", async (_, reply, _) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, reply.CancellationToken).ContinueWith(_ => { });
        });
        var client = await harness.StartClientAsync();
        var call = client.RequestAsync<string>("slow", null, cancellationToken: Bounded.Token()).AsTask();
        await started.Task.WithinAsync("the request to start");

        await worker.StopAsync();

        var error = await Assert.ThrowsAsync<PigatoBrokerException>(() => call.WithinAsync("the lost-worker error", TimeSpan.FromSeconds(5)));
        Assert.Equal(PigatoErrorCodes.WorkerLost, error.Code);
        Assert.Equal(0, (await harness.Broker.GetStatsAsync()).TrackedRequests);
    }

    [Fact]
    public async Task GracefulStop_LetsTheRequestInFlightFinish()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var worker = await harness.StartWorkerAsync("job", async (_, reply, _) =>
        {
            started.TrySetResult();
            await gate.Task;
            await reply.EndAsync("finished");
        }, o => o with { ShutdownGracePeriod = TimeSpan.FromSeconds(10) });
        var client = await harness.StartClientAsync();
        var call = client.RequestAsync<string>("job", null, cancellationToken: Bounded.Token()).AsTask();
        await started.Task.WithinAsync("the request to start");

        var stopping = worker.StopAsync();
        Assert.False(stopping.IsCompleted);
        gate.SetResult();

        await stopping.WithinAsync("the worker to stop once its request finished");
        var answer = await call.ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : t.Exception!.InnerException!.Message);
        Assert.True(answer == "finished", $"{answer}; broker log:\n{string.Join("\n", harness.BrokerLog.Lines)}");
    }

    [Fact]
    public async Task GracefulStop_RejectsWhatOutlivesTheGracePeriod_AnotherWorkerAnswers()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stubborn = await harness.StartWorkerAsync("job", async (_, reply, _) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, reply.CancellationToken).ContinueWith(_ => { });
        }, o => o with { ShutdownGracePeriod = TimeSpan.FromMilliseconds(200) });
        var client = await harness.StartClientAsync();
        var call = client.RequestAsync<string>("job", null, cancellationToken: Bounded.Token()).AsTask();
        await started.Task.WithinAsync("the request to start");
        await harness.StartWorkerAsync("job", (_, reply, _) => reply.EndAsync("other"));

        await stubborn.StopAsync().WithinAsync("the worker to stop after its grace period");

        Assert.Equal("other", await call.WithinAsync("the rejected request's new answer"));
    }

    [Fact]
    public async Task WorkerLostMidRequest_WithRetry_AnotherWorkerAnswers()
    {
        await using var harness = await PigatoHarness.StartAsync();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = await harness.StartWorkerAsync("job", async (_, reply, _) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, reply.CancellationToken).ContinueWith(_ => { });
        });
        var client = await harness.StartClientAsync();
        var call = client.RequestAsync<string>("job", null, new RequestOptions { Retry = true }, Bounded.Token()).AsTask();
        await started.Task.WithinAsync("the request to start");

        await harness.StartWorkerAsync("job", (_, reply, _) => reply.EndAsync("second"));
        await first.StopAsync();

        Assert.Equal("second", await call.WithinAsync("the retried request"));
    }
}

/// <summary>Counts process-wide resources, so it runs alone: no other test may open sockets meanwhile.</summary>
[Collection(SerialTests.Name)]
public class LeakTests
{
    [Fact]
    public async Task FiveHundredClients_StartedAndStopped_LeakNoThreadsOrSockets()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await StartStopClientsAsync(harness.Endpoint, 20);
        var descriptorsBefore = OpenDescriptors();

        await StartStopClientsAsync(harness.Endpoint, 500);

        // A stopped loop's thread may still be unwinding for a moment: wait (bounded) for it to end.
        await Bounded.UntilAsync(() => ThreadsNamed("Pigato.Client") == 0, "every client thread has ended");
        await Bounded.UntilAsync(() => OpenDescriptors() <= descriptorsBefore + 20, $"open file descriptors return to about {descriptorsBefore}");

        static async Task StartStopClientsAsync(string endpoint, int count)
        {
            for (var i = 0; i < count; i++)
            {
                await using var client = new Client(new ClientOptions { Endpoint = endpoint });
                await client.StartAsync();
                await client.StopAsync();
            }
        }
    }

    private static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;

    /// <summary>Live threads with this name (Linux keeps the first 15 characters of a thread's name).</summary>
    private static int ThreadsNamed(string name) =>
        Directory.GetDirectories("/proc/self/task").Count(task =>
        {
            try
            {
                return File.ReadAllText(Path.Combine(task, "comm")).Trim() == name;
            }
            catch (IOException)
            {
                return false; // the thread ended while we looked
            }
        });
}

/// <summary>Calls racing a stop: every one of them ends, with a result or a typed error, never hanging.</summary>
public class StopRaceTests
{
    [Fact]
    public async Task RequestsRacingClientStop_EveryOneEnds_WithAnAnswerOrAPigatoException()
    {
        await using var harness = await PigatoHarness.StartAsync();
        await harness.StartWorkerAsync("echo", (data, reply, _) => reply.EndAsync(data), o => o with { Concurrency = -1 });
        int answered = 0, refused = 0;
        for (var round = 0; round < 25; round++)
        {
            await using var client = await harness.StartClientAsync();
            var calls = Enumerable.Range(0, 40)
                .Select(i => Task.Run(() => client.RequestAsync<string>("echo", "x" + i).AsTask()))
                .ToArray();
            var stats = Task.Run(() => harness.Broker.GetStatsAsync());
            await client.StopAsync().WithinAsync("the client's stop");
            foreach (var call in calls)
            {
                try
                {
                    Assert.StartsWith("x", await call.WithinAsync("a request racing the stop"));
                    answered++;
                }
                catch (PigatoException e)
                {
                    Assert.Contains(e.Code, (string[])[PigatoErrorCodes.ClientStopped, PigatoErrorCodes.NotRunning]);
                    refused++;
                }
            }

            await stats.WithinAsync("the broker's stats");
        }

        Assert.Equal(25 * 40, answered + refused);
    }

    [Fact]
    public async Task CallsRacingBrokerStop_EveryOneEnds()
    {
        for (var round = 0; round < 10; round++)
        {
            var harness = await PigatoHarness.StartAsync();
            var client = await harness.StartClientAsync();
            var requests = Enumerable.Range(0, 20).Select(_ => client.RequestAsync<string>("nobody", null).AsTask()).ToArray();
            var stats = Enumerable.Range(0, 20).Select(_ => Task.Run(() => harness.Broker.GetStatsAsync())).ToArray();
            await harness.Broker.StopAsync().WithinAsync("the broker's stop");
            foreach (var call in stats)
            {
                try
                {
                    await call.WithinAsync("a stats call racing the stop");
                }
                catch (PigatoException e)
                {
                    Assert.Equal(PigatoErrorCodes.NotRunning, e.Code);
                }
            }

            await harness.DisposeAsync();
            foreach (var call in requests)
            {
                // Held by the broker when it stopped (ERR_BROKER_STOPPED), or failed by the client's stop.
                await Assert.ThrowsAnyAsync<PigatoException>(() => call.WithinAsync("a request racing the broker's stop"));
            }
        }
    }
}
