using System.Collections.Concurrent;
using System.Diagnostics;
using Pigato.TestUtilities;
using Xunit;
using Xunit.Abstractions;

namespace Pigato.Slow.Tests;

/// <summary>
/// <c>persist</c> requests against brokers as processes killed with -9 half-way: every request gets exactly one successful
/// final reply, and only those in flight at the kill run twice at the worker.
/// </summary>
public sealed class DurableRequestTests(ITestOutputHelper output) : IDisposable
{
    private const int Total = 10_000;
    private const int InFlight = 1_000;

    private readonly string _directory = Directory.CreateTempSubdirectory("pigato-durable-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task BrokerOnSqliteKilledHalfWay_AndStartedAgain_EveryRequestGetsOneReply_OnlyThoseInFlightRunTwice()
    {
        var store = "sqlite:" + Path.Combine(_directory, "requests.db");
        var endpoint = Ports.FreeEndpoint();
        var broker = await PigatoProcess.StartBrokerAsync(endpoint, "--store", store);
        PigatoProcess? restarted = null;
        try
        {
            await KillHalfWayAsync([endpoint], broker.Kill, async () => restarted = await PigatoProcess.StartBrokerAsync(endpoint, "--store", store));
            var line = restarted!.Output.FirstOrDefault(l => l.Contains("queued again", StringComparison.Ordinal));
            output.WriteLine("restarted broker: " + line);
            Assert.NotNull(line);
            Assert.DoesNotContain(" 0 persist request", line, StringComparison.Ordinal);
        }
        finally
        {
            broker.Dispose();
            restarted?.Dispose();
        }
    }

    [Theory]
    [InlineData("sqlite")]
    [InlineData("redis")]
    public async Task BrokerKilledWhileAcceptingFasterThanItStores_AndStartedAgain_EveryRequestGetsExactlyOneReply(string kind)
    {
        // The worker is not held: requests arrive faster than the store commits, so some are accepted but not yet stored at
        // the kill. The client and worker have one broker each and the defaults: ZeroMQ reconnects them under the same
        // identity to the restarted broker, and the client sends its persist requests again.
        using var redis = kind == "redis" ? await RedisServer.StartAsync() : null;
        var store = redis?.Store ?? "sqlite:" + Path.Combine(_directory, "requests.db");
        var endpoint = Ports.FreeEndpoint();
        var broker = await PigatoProcess.StartBrokerAsync(endpoint, "--store", store);
        PigatoProcess? restarted = null;
        try
        {
            await KillHalfWayAsync([endpoint], broker.Kill, async () => restarted = await PigatoProcess.StartBrokerAsync(endpoint, "--store", store), holdWorker: false, detectDisconnect: null);
            output.WriteLine("restarted broker: " + restarted!.Output.FirstOrDefault(l => l.Contains("queued again", StringComparison.Ordinal)));
        }
        finally
        {
            broker.Dispose();
            restarted?.Dispose();
        }
    }

    [Fact]
    public async Task OneOfTwoBrokersOnRedisKilledForGood_TheOtherTakesItsRequestsOverWithinTheLease()
    {
        using var redis = await RedisServer.StartAsync();
        var lease = TimeSpan.FromSeconds(3);
        using var first = await PigatoProcess.StartBrokerAsync(null, "--store", redis.Store, "--store-lease", "3s");
        using var second = await PigatoProcess.StartBrokerAsync(null, "--store", redis.Store, "--store-lease", "3s");
        var killed = Stopwatch.StartNew();
        await KillHalfWayAsync([first.Endpoint, second.Endpoint], () =>
        {
            first.Kill();
            killed.Restart();
        }, () => Task.CompletedTask);

        await Bounded.UntilAsync(() => second.Output.Any(l => l.Contains("Took over", StringComparison.Ordinal)), "the surviving broker to take over", lease * 3);
        var line = second.Output.First(l => l.Contains("Took over", StringComparison.Ordinal));
        output.WriteLine($"take-over seen {killed.Elapsed.TotalSeconds:0.0} s after the kill (lease {lease.TotalSeconds:0} s): " + line);
        Assert.DoesNotContain("Took over 0 ", line, StringComparison.Ordinal);
    }

    /// <summary>
    /// Sends <see cref="Total"/> persist requests, <see cref="InFlight"/> at a time, through the brokers at
    /// <paramref name="endpoints"/>; at half-way calls <paramref name="kill"/> then <paramref name="afterKill"/>: with the
    /// worker full and held (<paramref name="holdWorker"/>), or at once, while requests flow.
    /// </summary>
    private async Task KillHalfWayAsync(string[] endpoints, Action kill, Func<Task> afterKill, bool holdWorker = true, bool? detectDisconnect = true)
    {
        const int Concurrency = 200;
        var runs = new ConcurrentDictionary<int, int>();
        var running = 0;
        TaskCompletionSource? hold = null;
        var full = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var heartbeat = TimeSpan.FromMilliseconds(500);
        await using var worker = new Worker(new WorkerOptions { Endpoints = endpoints, Service = "pay", Concurrency = Concurrency, HeartbeatInterval = heartbeat, DetectDisconnect = detectDisconnect }, async (n, reply, _) =>
        {
            runs.AddOrUpdate(n.GetInt32(), 1, (_, c) => c + 1);
            var now = Interlocked.Increment(ref running);
            if (Volatile.Read(ref hold) is { } held)
            {
                if (now >= Concurrency)
                {
                    full.TrySetResult();
                }

                await held.Task;
            }
            else
            {
                await Task.Yield();
            }

            Interlocked.Decrement(ref running);
            await reply.EndAsync(n);
        });
        await worker.StartAsync();
        await using var client = new Client(new ClientOptions { Endpoints = endpoints, HeartbeatInterval = heartbeat, DetectDisconnect = detectDisconnect });
        await client.StartAsync();
        await Bounded.UntilAsync(() => client.IsConnected, "the client hears from a broker");

        var answers = new ConcurrentDictionary<int, int>();
        var answered = new bool[Total];
        var failures = new ConcurrentQueue<string>();
        HashSet<int>? inFlightAtKill = null;
        var killedAt = 0;
        var options = new RequestOptions { Persist = true, Timeout = TimeSpan.FromSeconds(60) };
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(InFlight);
        var calls = new List<Task>(Total);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        for (var i = 0; i < Total; i++)
        {
            var slot = gate.WaitAsync(Bounded.Token(TimeSpan.FromSeconds(90)));
            if (i >= Total / 2 && inFlightAtKill is null && !holdWorker)
            {
                inFlightAtKill = Enumerable.Range(0, i).Where(n => !Volatile.Read(ref answered[n])).ToHashSet();
                killedAt = i;
                kill();
                await afterKill();
            }
            else if (i >= Total / 2 && inFlightAtKill is null)
            {
                // From half-way handlers are held, and sending goes on until the worker is full: the kill finds it full and
                // the rest queued (in the store), however fast this machine answered so far.
                Volatile.Write(ref hold, release);
                await Task.WhenAny(slot, full.Task).WithinAsync("a free slot or the worker full", TimeSpan.FromSeconds(30));
                if (full.Task.IsCompleted)
                {
                    // Everything sent and not answered yet is in flight: only those may run twice.
                    inFlightAtKill = Enumerable.Range(0, i).Where(n => !Volatile.Read(ref answered[n])).ToHashSet();
                    killedAt = i;
                    kill();
                    Volatile.Write(ref hold, null);
                    release.SetResult();
                    await afterKill();
                }
            }

            await slot;
            var n = i;
            calls.Add(Task.Run(async () =>
            {
                try
                {
                    var answer = await client.RequestAsync<int>("pay", n, options, Bounded.Token(TimeSpan.FromSeconds(90)));
                    Volatile.Write(ref answered[n], true);
                    answers.AddOrUpdate(answer, 1, (_, c) => c + 1);
                }
                catch (Exception e) when (e is PigatoException or OperationCanceledException)
                {
                    failures.Enqueue($"{n}: {e.Message}");
                }
                finally
                {
                    gate.Release();
                }
            }));
        }

        await Task.WhenAll(calls).WithinAsync("every request", TimeSpan.FromSeconds(120));
        var twice = runs.Where(r => r.Value > 1).Select(r => r.Key).ToList();
        output.WriteLine($"{Total:N0} persist requests, {InFlight:N0} in flight, broker killed at {killedAt:N0} ({inFlightAtKill!.Count} in flight): {answers.Count:N0} answered in {clock.Elapsed.TotalSeconds:0.0} s, {failures.Count} failed, {twice.Count} ran more than once at the worker (most runs of one: {(runs.IsEmpty ? 0 : runs.Values.Max())})");
        Assert.Empty(failures);
        Assert.Equal(Total, answers.Count);
        Assert.All(answers.Values, count => Assert.Equal(1, count));
        Assert.All(twice, n => Assert.Contains(n, inFlightAtKill));
    }
}

/// <summary>A shared store that goes away: persist requests are refused with a clear code, the rest flows, and it recovers.</summary>
public sealed class StoreUnavailableTests
{
    [Fact]
    public async Task RedisGoingDown_RefusesNewPersistRequests_WithStoreUnavailable_WhileOtherRequestsFlow()
    {
        using var redis = await RedisServer.StartAsync();
        await using var broker = new Broker(new BrokerOptions { Endpoint = "tcp://127.0.0.1:0", InternalEndpoint = null, Store = redis.StoreFactory, StoreLease = TimeSpan.FromSeconds(1), HeartbeatInterval = TimeSpan.FromMilliseconds(500) });
        var reports = new System.Collections.Concurrent.ConcurrentQueue<string>();
        broker.Error += (_, e) => reports.Enqueue(e.Code + " " + e.Message);
        await broker.StartAsync();
        await using var worker = new Worker(new WorkerOptions { Endpoint = broker.Endpoint!, Service = "pay" }, (d, r, _) => r.EndAsync(d));
        await worker.StartAsync();
        await using var client = new Client(new ClientOptions { Endpoint = broker.Endpoint! });
        await client.StartAsync();
        var persist = new RequestOptions { Persist = true, Timeout = TimeSpan.FromSeconds(10) };
        Assert.Equal(1, await client.RequestAsync<int>("pay", 1, persist, Bounded.Token()));

        redis.Kill();
        var refused = 0;
        await Bounded.UntilAsync(async () =>
        {
            try
            {
                await client.RequestAsync<int>("pay", 2, persist, Bounded.Token());
                return false;
            }
            catch (PigatoBrokerException e) when (e.Code == PigatoErrorCodes.StoreUnavailable)
            {
                refused++;
                return true;
            }
        }, "a persist request refused once the store is down");

        Assert.Equal(1, refused);
        Assert.Equal(3, await client.RequestAsync<int>("pay", 3, cancellationToken: Bounded.Token()));
        Assert.Contains(reports, r => r.StartsWith(PigatoErrorCodes.StoreUnavailable, StringComparison.Ordinal) && r.Contains("unavailable", StringComparison.Ordinal));
    }
}
