using System.Text.Json;
using Pigato.TestUtilities;

namespace Pigato.Integration.Tests;

/// <summary>A worker's exact frames, with a raw ROUTER playing the broker.</summary>
public class WorkerWireTests
{
    private static readonly TimeSpan FastHeartbeat = TimeSpan.FromMilliseconds(100);

    /// <summary>A worker on the raw broker; that broker answers no heartbeat, so the default liveness is large unless a test is about it.</summary>
    private static Worker NewWorker(RawSocket broker, RequestHandler<JsonElement> handler, int liveness = 1000, TimeSpan? heartbeat = null) =>
        new(new WorkerOptions { Endpoint = broker.Endpoint, Service = "echo", Concurrency = 7, HeartbeatInterval = heartbeat ?? FastHeartbeat, Liveness = liveness, Prefix = "wire" }, handler);

    [Fact]
    public async Task Start_SendsReadyThenHeartbeatsCarryingConcurrency()
    {
        using var broker = RawSocket.Router();
        await using var worker = NewWorker(broker, (_, r, _) => r.EndAsync());
        await worker.StartAsync();

        var ready = broker.ReceiveMatching(1, "W", "1");
        Assert.Equal([worker.Id!, "W", "1", "echo", "{\"concurrency\":7,\"v\":2}"], ready);
        Assert.StartsWith("wire-", worker.Id);
        Assert.Equal([worker.Id!, "W", "4", "", "{\"concurrency\":7}"], broker.ReceiveMatching(1, "W", "4"));

        worker.Concurrency = -1;
        broker.ReceiveMatching(1, "W", "4", "", "{\"concurrency\":-1}");
    }

    [Fact]
    public async Task Request_PartialFinalErrorAndReject_HaveProtocolFrames()
    {
        using var broker = RawSocket.Router();
        await using var worker = NewWorker(broker, async (data, reply, options) =>
        {
            switch (data.GetString())
            {
                case "stream":
                    await reply.WriteAsync("p1");
                    await reply.EndAsync(new { done = true });
                    break;
                case "fail":
                    await reply.ErrorAsync("bad");
                    break;
                case "options":
                    await reply.EndAsync(options.GetProperty("tenant").GetString());
                    break;
                default:
                    await reply.RejectAsync("busy");
                    break;
            }
        });
        await worker.StartAsync();
        var id = broker.ReceiveMatching(1, "W", "1")[0];

        broker.Send(id, "W", "2", "client-1", "echo", "", "r1", "\"stream\"", "{\"timeout\":60000,\"retry\":0}");
        Assert.Equal([id, "W", "6", "client-1", "", "r1", "0", "\"p1\"", "{}"], broker.ReceiveMatching(1, "W", "6"));
        Assert.Equal([id, "W", "3", "client-1", "", "r1", "0", "{\"done\":true}", "{}"], broker.ReceiveMatching(1, "W", "3"));

        broker.Send(id, "W", "2", "client-1", "echo", "", "r2", "\"fail\"", "{}");
        Assert.Equal([id, "W", "3", "client-1", "", "r2", "-1", "\"bad\"", "{}"], broker.ReceiveMatching(1, "W", "3"));

        broker.Send(id, "W", "2", "client-1", "echo", "", "r3", "\"options\"", "{\"timeout\":5,\"tenant\":\"acme\"}");
        Assert.Equal("\"acme\"", broker.ReceiveMatching(1, "W", "3", "client-1", "", "r3")[7]);

        broker.Send(id, "W", "2", "client-1", "echo", "", "r4", "\"other\"", "undefined");
        Assert.Equal([id, "W", "7", "client-1", "", "r4", "0", "\"busy\""], broker.ReceiveMatching(1, "W", "7"));
    }

    [Fact]
    public async Task JsonData_SmallParsedOnTheLoop_LargeCopied_InvalidRefused_EachEchoedAsItCame()
    {
        using var broker = RawSocket.Router();
        var options = new WorkerOptions { Endpoint = broker.Endpoint, Service = "echo", Concurrency = 100, HeartbeatInterval = FastHeartbeat, Liveness = 1000, Prefix = "wire" };
        await using var worker = new Worker(options, async (data, reply, _) =>
        {
            await Task.Yield(); // off the loop: later frames have been read by now
            await reply.EndAsync(data);
        });
        await worker.StartAsync();
        var id = broker.ReceiveMatching(1, "W", "1")[0];

        // A burst of small requests, each kept by its handler beyond the frame it came in, then one over the limit parsed
        // on the loop: every echo is its own request's data.
        const int Small = 40;
        for (var i = 0; i < Small; i++)
        {
            broker.Send(id, "W", "2", "client-1", "echo", "", "r" + i, $"{{\"n\":{i},\"pad\":\"{new string((char)('a' + (i % 26)), 100 + i)}\"}}", "{}");
        }

        var large = "\"" + new string('x', 20 * 1024) + "\"";
        broker.Send(id, "W", "2", "client-1", "echo", "", "large", large, "{}");
        var echoes = new Dictionary<string, string>();
        for (var i = 0; i <= Small; i++)
        {
            var reply = broker.ReceiveMatching(1, "W", "3");
            echoes[reply[5]] = reply[7];
        }

        for (var i = 0; i < Small; i++)
        {
            using var echo = JsonDocument.Parse(echoes["r" + i]);
            Assert.Equal(i, echo.RootElement.GetProperty("n").GetInt32());
            Assert.Equal(new string((char)('a' + (i % 26)), 100 + i), echo.RootElement.GetProperty("pad").GetString());
        }

        Assert.Equal(large, echoes["large"]);

        broker.Send(id, "W", "2", "client-1", "echo", "", "bad", "{not json", "{}");
        var refused = broker.ReceiveMatching(1, "W", "3", "client-1", "", "bad");
        Assert.Equal("-1", refused[6]);
        Assert.Contains(PigatoErrorCodes.InvalidData, refused[7], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Stop_SendsDisconnect()
    {
        using var broker = RawSocket.Router();
        var worker = NewWorker(broker, (_, r, _) => r.EndAsync());
        await worker.StartAsync();
        var id = broker.ReceiveMatching(1, "W", "1")[0];

        await worker.DisposeAsync();

        Assert.Equal([id, "W", "5"], broker.ReceiveMatching(1, "W", "5"));
    }

    [Fact]
    public async Task BrokerSilentThreePeriods_SendsDisconnectAndRegistersAgainUnderNewId()
    {
        using var broker = RawSocket.Router();
        await using var worker = NewWorker(broker, (_, r, _) => r.EndAsync(), liveness: 3);
        await worker.StartAsync();
        var first = broker.ReceiveMatching(1, "W", "1")[0];

        // The raw broker never answers: after 3 periods the worker gives up on this connection.
        Assert.Equal(first, broker.ReceiveMatching(1, "W", "5")[0]);
        var second = broker.ReceiveMatching(1, "W", "1", "echo");
        Assert.NotEqual(first, second[0]);
        Assert.StartsWith("wire-", second[0]);
    }

    [Fact]
    public async Task DisconnectFromBroker_RegistersAgainAndRequestsGoInactive()
    {
        using var broker = RawSocket.Router();
        var inactive = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = NewWorker(broker, async (_, reply, _) =>
        {
            await Task.Delay(Timeout.Infinite, reply.CancellationToken).ContinueWith(_ => { });
            inactive.TrySetResult();
        });
        var connected = 0;
        worker.Connected += (_, _) => Interlocked.Increment(ref connected);
        await worker.StartAsync();
        var first = broker.ReceiveMatching(1, "W", "1")[0];
        broker.Send(first, "W", "1");
        broker.Send(first, "W", "2", "client-1", "echo", "", "r1", "null", "{}");
        await Bounded.UntilAsync(() => Volatile.Read(ref connected) == 1, "the worker is connected");

        broker.Send(first, "W", "5");

        await inactive.Task.WithinAsync("the running request to go inactive");
        var second = broker.ReceiveMatching(1, "W", "1", "echo")[0];
        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task RequestHeartbeats_KeepRequestActive_AndTheirAbsenceEndsIt()
    {
        var period = TimeSpan.FromMilliseconds(400);
        using var broker = RawSocket.Router();
        var observed = new TaskCompletionSource<(bool ActiveWhileHeartbeating, bool ActiveAfterSilence)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var heartbeating = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = NewWorker(broker, async (_, reply, _) =>
        {
            await heartbeating.Task;
            var activeWhileHeartbeating = reply.IsActive;
            await Task.Delay(Timeout.Infinite, reply.CancellationToken).ContinueWith(_ => { });
            observed.TrySetResult((activeWhileHeartbeating, reply.IsActive));
        }, liveness: 3, heartbeat: period);
        await worker.StartAsync();
        var id = broker.ReceiveMatching(1, "W", "1")[0];
        broker.Send(id, "W", "1");
        broker.Send(id, "W", "2", "client-1", "echo", "", "r1", "null", "{}");

        // Paced by the worker's own heartbeats (one per period): a request heartbeat answers each, for eight
        // periods, well past the liveness of three.
        for (var i = 0; i < 8; i++)
        {
            broker.ReceiveMatching(1, "W", "4");
            broker.Send(id, "W", "4");
            broker.Send(id, "W", "4", "client-1", "", "r1");
        }

        // Then only broker heartbeats, so that the connection stays up and only the request goes quiet.
        heartbeating.SetResult();
        for (var i = 0; i < 100 && !observed.Task.IsCompleted; i++)
        {
            broker.ReceiveMatching(1, "W", "4");
            broker.Send(id, "W", "4");
        }

        var (activeWhileHeartbeating, activeAfterSilence) = await observed.Task.WithinAsync("the request to go inactive without heartbeats");
        Assert.Equal(id, worker.Id);
        Assert.True(activeWhileHeartbeating);
        Assert.False(activeAfterSilence);
    }

    [Fact]
    public async Task TwoClientsUsingTheSameRid_AreTrackedApart()
    {
        // A liveness of 8 periods: the connection survives this test's answers coming late on a loaded machine (with 3,
        // a 600 ms stall of the test's thread in a full run made the worker drop its broker).
        var period = TimeSpan.FromMilliseconds(200);
        using var broker = RawSocket.Router();
        var inactive = new Dictionary<string, TaskCompletionSource<bool>> { ["a"] = new(TaskCreationOptions.RunContinuationsAsynchronously), ["b"] = new(TaskCreationOptions.RunContinuationsAsynchronously) };
        var replies = new System.Collections.Concurrent.ConcurrentDictionary<string, WorkerReply>();
        var firstEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var worker = NewWorker(broker, async (data, reply, _) =>
        {
            var who = data.GetString()!;
            replies[who] = reply;
            await Task.Delay(Timeout.Infinite, reply.CancellationToken).ContinueWith(_ => { });

            // The other request's state at the moment this one went quiet.
            inactive[who].TrySetResult(replies.TryGetValue(who == "a" ? "b" : "a", out var other) && other.IsActive);
            await reply.EndAsync(who);
            if (who == "a")
            {
                firstEnded.TrySetResult();
            }
        }, liveness: 8, heartbeat: period);
        await worker.StartAsync();
        var id = broker.ReceiveMatching(1, "W", "1")[0];
        broker.Send(id, "W", "1");
        broker.Send(id, "W", "2", "client-1", "echo", "", "r1", "\"a\"", "{}");
        broker.Send(id, "W", "2", "client-2", "echo", "", "r1", "\"b\"", "{}");

        // Request heartbeats for client-2's r1 only, one per worker heartbeat: client-1's goes quiet, client-2's stays active.
        for (var i = 0; i < 100 && !inactive["a"].Task.IsCompleted; i++)
        {
            broker.ReceiveMatching(1, "W", "4");
            broker.Send(id, "W", "4");
            broker.Send(id, "W", "4", "client-2", "", "r1");
        }

        Assert.True(await inactive["a"].Task.WithinAsync("client-1's request to go inactive"), "client-2's request stayed active");
        await firstEnded.Task.WithinAsync("client-1's request to end");

        // client-1's request has ended; client-2's is still tracked: without its heartbeats it goes inactive in turn.
        for (var i = 0; i < 100 && !inactive["b"].Task.IsCompleted; i++)
        {
            broker.ReceiveMatching(1, "W", "4");
            broker.Send(id, "W", "4");
        }

        Assert.False(await inactive["b"].Task.WithinAsync("client-2's request to go inactive"));
    }
}
