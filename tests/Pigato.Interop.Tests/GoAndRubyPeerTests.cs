using System.Collections.Concurrent;
using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace Pigato.Interop.Tests;

/// <summary>
/// PIGATO-GO's and PIGATO-RUBY's peers, as raw NetMQ sockets that speak exactly as they do, through a .NET broker: clients
/// that never heartbeat and send an empty options frame, a worker whose second (client) socket heartbeats for it with
/// <c>C, 4, worker, id</c> while the worker socket says nothing, replies of 7 frames.
/// </summary>
public sealed class GoAndRubyPeerTests : IAsyncLifetime
{
    /// <summary>Short periods, so that the silence rules act within the test: silent for 3 x 300 ms counts.</summary>
    private static readonly TimeSpan Heartbeat = TimeSpan.FromMilliseconds(300);

    private readonly ConcurrentQueue<string> _errors = new();
    private Broker _broker = null!;

    public async Task InitializeAsync()
    {
        _broker = new Broker(new BrokerOptions
        {
            Endpoint = "tcp://127.0.0.1:0",
            InternalEndpoint = null,
            HeartbeatInterval = Heartbeat,
        });
        _broker.Error += (_, e) => _errors.Enqueue(e.Code + " " + e.Message);
        await _broker.StartAsync();
    }

    public Task DisposeAsync() => _broker.DisposeAsync().AsTask();

    [Fact]
    public async Task RubyWorker_BusyForTenLivenessPeriods_KeptAliveByItsClientSocket_Answers()
    {
        using var worker = Dealer("W-ruby-1");
        Send(worker, "W", "1", "slow");

        // From the start, the worker's client socket heartbeats for it every period, on a thread of its own (as PIGATO-RUBY's does).
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var heartbeats = Task.Factory.StartNew(() =>
        {
            using var workerClient = Dealer("C-ruby-1");
            while (!stop.IsCancellationRequested)
            {
                Send(workerClient, "C", "4", "worker", "W-ruby-1");
                Assert.Null(Receive(workerClient, Heartbeat));
            }
        }, TaskCreationOptions.LongRunning);

        // The caller is not under test: a generous liveness, so that a stall of the test process does not cost it the broker.
        await using var client = new Client(new ClientOptions { Endpoint = _broker.Endpoint!, HeartbeatInterval = Heartbeat, Liveness = 30 });
        await client.StartAsync();
        await Interop.WaitForWorkersAsync(_broker, 1);
        var answer = client.RequestAsync<string>("slow", "job", new RequestOptions { Timeout = TimeSpan.FromSeconds(30) }, Interop.Token()).AsTask();
        var request = await ReceiveMatchingAsync(worker, "W", "2");

        // The handler is busy for ten liveness periods (the scenario, not a wait): the worker socket sends nothing meanwhile.
        await Task.Delay(Heartbeat * 3 * 10);

        // A Ruby worker's reply has 7 frames: no options frame.
        Send(worker, "W", "3", request[2], "", request[5], "0", "\"done\"");
        Assert.Equal("done", await answer.WaitAsync(Interop.Bound));
        await stop.CancelAsync();
        await heartbeats.WaitAsync(Interop.Bound);
        Assert.DoesNotContain(_errors, e => e.StartsWith(PigatoErrorCodes.MessageLength, StringComparison.Ordinal));
    }

    [Fact]
    public async Task GoClient_ThatNeverHeartbeats_KeepsItsQueuedRequest_UntilAWorkerComes()
    {
        using var go = Dealer("C-go-1");
        Send(go, "C", "2", "late", "rid-go", "\"x\"", "");

        // A client that did heartbeat once, then fell silent, loses its queued request: proof that the rule has run.
        using var heartbeating = Dealer("C-net-1");
        Send(heartbeating, "C", "4");
        Send(heartbeating, "C", "2", "late", "rid-hb", "\"y\"", "{\"timeout\":60000}");
        var dropped = await ReceiveMatchingAsync(heartbeating, "C", "3", "", "rid-hb");
        Assert.Equal(["-1", $"\"{PigatoErrorCodes.ClientLost}\""], dropped[4..6]);

        await using var worker = new Worker(new WorkerOptions { Endpoint = _broker.Endpoint!, Service = "late", HeartbeatInterval = Heartbeat }, Interop.DotnetHandler);
        await worker.StartAsync();
        var reply = await ReceiveMatchingAsync(go, "C", "3", "", "rid-go");
        Assert.Equal(["0", "\"x\""], reply[4..6]);
    }

    private DealerSocket Dealer(string identity)
    {
        var dealer = new DealerSocket();
        dealer.Options.Identity = Encoding.UTF8.GetBytes(identity);
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(_broker.Endpoint!);
        return dealer;
    }

    private static void Send(DealerSocket socket, params string[] frames)
    {
        var message = new NetMQMessage();
        foreach (var frame in frames)
        {
            message.Append(frame);
        }

        socket.SendMultipartMessage(message);
    }

    private static string[]? Receive(DealerSocket socket, TimeSpan timeout)
    {
        List<string>? frames = null;
        return socket.TryReceiveMultipartStrings(timeout, ref frames) ? [.. frames!] : null;
    }

    /// <summary>The next message that starts with <paramref name="prefix"/> (heartbeats skipped), within the bound; polls without holding a pool thread.</summary>
    private static async Task<string[]> ReceiveMatchingAsync(DealerSocket socket, params string[] prefix)
    {
        var deadline = DateTime.UtcNow + Interop.Bound;
        while (DateTime.UtcNow < deadline)
        {
            if (Receive(socket, TimeSpan.Zero) is not { } message)
            {
                await Task.Delay(10);
            }
            else if (message.Length >= prefix.Length && message.Take(prefix.Length).SequenceEqual(prefix))
            {
                return message;
            }
        }

        Assert.Fail($"No message starting {string.Join(", ", prefix)} within {Interop.Bound.TotalSeconds} s.");
        return [];
    }
}
