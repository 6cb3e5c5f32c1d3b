using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;
using Pigato.Internal;
using Pigato.Protocol.Compact;
using Pigato.Routing;

namespace Pigato.Tests.Internal;

/// <summary>
/// On the wire (real inproc sockets, the broker's transport and core driven by the test as its loop would): a v2 worker
/// that vanished is sent a batch; the batch cannot be delivered, and the request it carried goes back to its queue, as a
/// v1 send's would, although it has no <c>retry</c>: the next worker serves it.
/// </summary>
public sealed class VanishedWorkerTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);
    private readonly string _endpoint = $"inproc://vanished-worker-{Guid.NewGuid():N}";
    private readonly RouterSocket _router;
    private readonly BrokerTransport _transport;
    private readonly List<string> _errors = [];

    public VanishedWorkerTests()
    {
        var options = new BrokerOptions { InternalEndpoint = null };
        _router = SocketFactory.Router(options, "broker");
        _transport = new BrokerTransport(new Pigato.Internal.Links.NetMqRouterLink(_router, _endpoint), null, options, (code, _, _, _) => _errors.Add(code), output => new BrokerCore(options, output, TimeProvider.System, NullLogger.Instance));
    }

    private DealerSocket Peer(string identity)
    {
        var dealer = new DealerSocket();
        dealer.Options.Identity = System.Text.Encoding.UTF8.GetBytes(identity);
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Connect(_endpoint);
        return dealer;
    }

    /// <summary>One turn of the broker's loop: what arrived is handled, then the batches it made are sent.</summary>
    private void Turn()
    {
        _transport.ReceiveWaiting();
        _transport.SendBatches();
    }

    /// <summary>Sends <paramref name="frames"/> and turns the broker's loop until it has handled them.</summary>
    private void Deliver(DealerSocket peer, params string[] frames)
    {
        for (var i = 0; i < frames.Length; i++)
        {
            peer.SendFrame(frames[i], i < frames.Length - 1);
        }

        Until(() => _router.HasIn, "the broker to receive it");
        Turn();
    }

    private static void Until(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Bound, "Timed out waiting for " + what);
            Thread.Sleep(1);
        }
    }

    private static List<string> Receive(DealerSocket peer)
    {
        var message = new NetMQMessage();
        Assert.True(peer.TryReceiveMultipartMessage(Bound, ref message), "a message from the broker");
        return [.. message.Select(frame => frame.BufferSize == 0 ? "" : frame.ConvertToString())];
    }

    [Fact]
    public void ABatchForAVanishedV2Worker_GoesBackToTheQueue_AndTheNextWorkerServesIt()
    {
        using (var vanishing = Peer("w-v2"))
        {
            Deliver(vanishing, "W", "1", "echo", "{\"concurrency\":5,\"v\":2}");
            Assert.Equal(["W", "1", "{\"v\":2}"], Receive(vanishing));
        }

        // The ROUTER drops the closed peer's pipe on its own: probe (the probe is lost with the pipe) until a send to it is refused.
        Until(() =>
        {
            try
            {
                _router.SendMoreFrame("w-v2").SendFrame("probe");
                return false;
            }
            catch (HostUnreachableException)
            {
                return true;
            }
        }, "the broker's socket to drop the vanished worker");

        using var client = Peer("c1");
        Deliver(client, "C", "4", "hello", "{\"v\":2}");
        Receive(client);
        client.SendFrame(CompactCodec.ClientRequest("echo"u8, "r1"u8, "\"x\""u8, "{}"u8).ToArray());
        Until(() => _router.HasIn, "the request");
        Turn();

        // Dispatched to the only worker, in a batch that could not be sent: the request waits for another worker, unanswered.
        var stats = _transport.Core.Stats();
        Assert.Equal(0, stats.Workers);
        Assert.Equal(1, stats.QueuedRequests);

        using var next = Peer("w-next");
        Deliver(next, "W", "1", "echo", "{\"concurrency\":5}");
        Assert.Equal(["W", "1"], Receive(next));
        Assert.Equal(["W", "2", "c1", "echo", "", "r1", "\"x\"", "{}"], Receive(next));
        Deliver(next, "W", "3", "c1", "", "r1", "0", "\"done\"", "{}");

        var reply = new NetMQMessage();
        Assert.True(client.TryReceiveMultipartMessage(Bound, ref reply));
        var fields = CompactCodec.ForClient(reply[0].Buffer);
        Assert.Equal(Pigato.Protocol.PigatoMessageKind.FinalReply, fields.Kind);
        Assert.False(fields.IsError);
        Assert.Equal("\"done\"", System.Text.Encoding.UTF8.GetString(fields.Data));
    }

    public void Dispose()
    {
        _transport.Dispose();
        _router.Dispose();
    }
}
