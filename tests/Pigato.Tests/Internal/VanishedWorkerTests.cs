using NetMQ;
using Pigato.Protocol.Compact;

namespace Pigato.Tests.Internal;

/// <summary>
/// On the wire (real inproc sockets, the broker's transport and core driven by the test as its loop would): a v2 worker
/// that vanished is sent a batch; the batch cannot be delivered, and the request it carried goes back to its queue, as a
/// v1 send's would, although it has no <c>retry</c>: the next worker serves it.
/// </summary>
public sealed class VanishedWorkerTests : IDisposable
{
    private readonly TransportHarness _broker = new(new BrokerOptions { InternalEndpoint = null });

    [Fact]
    public void ABatchForAVanishedV2Worker_GoesBackToTheQueue_AndTheNextWorkerServesIt()
    {
        using (var vanishing = _broker.Peer("w-v2"))
        {
            _broker.Deliver(vanishing, "W", "1", "echo", "{\"concurrency\":5,\"v\":2}");
            Assert.Equal(["W", "1", "{\"v\":2}"], TransportHarness.Receive(vanishing));
        }

        // The ROUTER drops the closed peer's pipe on its own: probe (the probe is lost with the pipe) until a send to it is refused.
        TransportHarness.Until(() =>
        {
            try
            {
                _broker.Router.SendMoreFrame("w-v2").SendFrame("probe");
                return false;
            }
            catch (HostUnreachableException)
            {
                return true;
            }
        }, "the broker's socket to drop the vanished worker");

        using var client = _broker.Peer("c1");
        _broker.Deliver(client, "C", "4", "hello", "{\"v\":2}");
        TransportHarness.Receive(client);
        client.SendFrame(CompactCodec.ClientRequest("echo"u8, "r1"u8, "\"x\""u8, "{}"u8).ToArray());
        TransportHarness.Until(() => _broker.Router.HasIn, "the request");
        _broker.Turn();

        // Dispatched to the only worker, in a batch that could not be sent: the request waits for another worker, unanswered.
        var stats = _broker.Transport.Core.Stats();
        Assert.Equal(0, stats.Workers);
        Assert.Equal(1, stats.QueuedRequests);

        using var next = _broker.Peer("w-next");
        _broker.Deliver(next, "W", "1", "echo", "{\"concurrency\":5}");
        Assert.Equal(["W", "1"], TransportHarness.Receive(next));
        Assert.Equal(["W", "2", "c1", "echo", "", "r1", "\"x\"", "{}"], TransportHarness.Receive(next));
        _broker.Deliver(next, "W", "3", "c1", "", "r1", "0", "\"done\"", "{}");

        var reply = new NetMQMessage();
        Assert.True(client.TryReceiveMultipartMessage(TransportHarness.Bound, ref reply));
        var fields = CompactCodec.ForClient(reply[0].Buffer);
        Assert.Equal(Pigato.Protocol.PigatoMessageKind.FinalReply, fields.Kind);
        Assert.False(fields.IsError);
        Assert.Equal("\"done\"", System.Text.Encoding.UTF8.GetString(fields.Data));
    }

    public void Dispose() => _broker.Dispose();
}
