using System.Text;
using NetMQ;
using Pigato.Protocol;
using Pigato.Protocol.Compact;

namespace Pigato.Tests.Internal;

/// <summary>
/// On the wire (real inproc sockets, the broker's transport and core driven by the test as its loop would): a v2 client
/// that reads nothing while a worker streams to it. Its outbound queue fills (bound: two messages); the batch it refuses
/// ends the request with <c>ERR_SLOW_CONSUMER</c>, which reaches the client past the bound, and the worker is told to
/// stop. The client then reads a stream without holes, closed by that error: nothing lost in silence.
/// </summary>
public sealed class SlowV2ClientTests : IDisposable
{
    private const int Partials = 12;

    private TransportHarness? _broker;

    private TransportHarness Broker => _broker!;

    [Fact]
    public void AStreamToAClientThatDoesNotRead_EndsWithSlowConsumer_AfterEveryPartialBeforeIt()
    {
        var (worker, client) = Start(new BrokerOptions { InternalEndpoint = null, SendHighWatermark = 1, MaxQueuedPerPeer = 2 });
        for (var i = 0; i < Partials; i++)
        {
            Broker.Deliver(worker, Partial($"{i}").ToArray());
        }

        Assert.Equal(["W", "4", "c1", Encoding.UTF8.GetString(PigatoFrames.CancelTag.Span), "r1"], TransportHarness.Receive(worker));
        Broker.Deliver(worker, CompactCodec.WorkerReply(MessageType.Reply, "c1"u8, "r1"u8, false, "\"done\""u8, default).ToArray());
        Assert.Contains(PigatoErrorCodes.SlowConsumer, Broker.Errors);
        Assert.Equal(0, Broker.Transport.Core.Stats().InFlightRequests);

        var partials = ReadUntilSlowConsumer(client);
        Assert.InRange(partials, 1, Partials - 1);
    }

    /// <summary>
    /// One worker batch relays a full client batch that the queue refuses (its bytes), then a small one with the final
    /// reply that would fit: it is refused too (a stream with a hole that ends well is worse than an error), and the
    /// client reads the partials before the refused ones, then <c>ERR_SLOW_CONSUMER</c>.
    /// </summary>
    [Fact]
    public void AfterARefusedBatch_ASmallerOneInTheSameTurnIsRefusedToo_NoHoleInTheStream()
    {
        const int Before = 5;
        var (worker, client) = Start(new BrokerOptions { InternalEndpoint = null, SendHighWatermark = 1, MaxQueuedBytesPerPeer = 32 * 1024 });
        for (var i = 0; i < Before; i++)
        {
            Broker.Deliver(worker, Partial($"{i}").ToArray());
        }

        var batch = new CompactBatch();
        batch.Add(Partial($"\"{new string('a', 40 * 1024)}\""));
        batch.Add(Partial($"\"{new string('b', 30 * 1024)}\""));
        batch.Add(Partial("small"));
        batch.Add(CompactCodec.WorkerReply(MessageType.Reply, "c1"u8, "r1"u8, false, "\"done\""u8, default));
        Broker.Deliver(worker, batch.Frame(borrowed: false).ToArray());
        batch.Clear();

        Assert.Equal(Before, ReadUntilSlowConsumer(client));
        Assert.Equal(0, Broker.Transport.Core.Stats().InFlightRequests);
    }

    public void Dispose() => _broker?.Dispose();

    private static CompactDraft Partial(string data) =>
        CompactCodec.WorkerReply(MessageType.ReplyPartial, "c1"u8, "r1"u8, false, Encoding.UTF8.GetBytes(data), default);

    /// <summary>A v2 worker of <c>echo</c> holding request <c>r1</c> of the v2 client <c>c1</c>, whose socket takes one message.</summary>
    private (NetMQ.Sockets.DealerSocket Worker, NetMQ.Sockets.DealerSocket Client) Start(BrokerOptions options)
    {
        _broker = new TransportHarness(options);
        var worker = Broker.Peer("w");
        Broker.Deliver(worker, "W", "1", "echo", "{\"concurrency\":5,\"v\":2}");
        Assert.Equal(["W", "1", "{\"v\":2}"], TransportHarness.Receive(worker));
        var client = Broker.Peer("c1", receiveHighWatermark: 1);
        Broker.Deliver(client, "C", "4", "hello", "{\"v\":2}");
        TransportHarness.Receive(client);
        Broker.Deliver(client, CompactCodec.ClientRequest("echo"u8, "r1"u8, "\"x\""u8, "{}"u8).ToArray());
        TransportHarness.Receive(worker);
        return (worker, client);
    }

    /// <summary>Reads the client's replies: partials 0, 1, 2... without a hole, then <c>ERR_SLOW_CONSUMER</c> and nothing more; returns how many partials.</summary>
    private int ReadUntilSlowConsumer(NetMQ.Sockets.DealerSocket client)
    {
        var replies = ReadAll(client);
        Assert.Equal((PigatoMessageKind.FinalReply, "\"ERR_SLOW_CONSUMER\""), replies[^1]);
        var partials = replies[..^1];
        Assert.Equal(Enumerable.Range(0, partials.Count).Select(i => (PigatoMessageKind.PartialReply, $"{i}")), partials);
        return partials.Count;
    }

    /// <summary>
    /// Every reply the broker sent the client, out of its batches, up to the final one (what waits in the broker's queue
    /// for it is sent as the loop's drain timer would); then nothing more is waiting.
    /// </summary>
    private List<(PigatoMessageKind Kind, string Data)> ReadAll(NetMQ.Sockets.DealerSocket client)
    {
        var replies = new List<(PigatoMessageKind Kind, string Data)>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (replies.Count == 0 || replies[^1].Kind != PigatoMessageKind.FinalReply)
        {
            Assert.True(clock.Elapsed < TransportHarness.Bound, "Timed out waiting for the final reply");
            Broker.Transport.SendQueued();
            Broker.Transport.SendBatches();
            if (client.TryReceiveFrameBytes(TimeSpan.FromMilliseconds(10), out var frame))
            {
                Read(frame, replies);
            }
        }

        Broker.Transport.SendQueued();
        Assert.Equal(0, Broker.Transport.QueuedBytesFor("c1"u8));
        while (client.TryReceiveFrameBytes(TimeSpan.Zero, out var frame))
        {
            Read(frame, replies);
        }

        return replies;
    }

    private static void Read(byte[] frame, List<(PigatoMessageKind Kind, string Data)> replies)
    {
        var messages = new CompactMessages(frame);
        while (messages.MoveNext())
        {
            var fields = CompactCodec.ForClient(frame.AsSpan(messages.Current));
            replies.Add((fields.Kind, Encoding.UTF8.GetString(fields.Data)));
        }

        Assert.False(messages.Malformed);
    }
}
