using NetMQ;
using NetMQ.Sockets;
using Pigato.Internal;

namespace Pigato.Tests.Internal;

/// <summary>A client's or worker's sends on a real (inproc) pipe of one message each way: they never wait, keep their order, and are bounded.</summary>
public sealed class DealerSenderTests : IDisposable
{
    private readonly DealerSocket _dealer = new();
    private readonly RouterSocket _broker = new();
    private readonly DealerSender _sender;

    public DealerSenderTests()
    {
        var endpoint = $"inproc://dealer-sender-{Guid.NewGuid():N}";
        _broker.Options.ReceiveHighWatermark = 1;
        _broker.Bind(endpoint);
        _dealer.Options.SendHighWatermark = 1;
        _dealer.Connect(endpoint);
        _sender = new DealerSender(new SocketLink(_dealer), maxQueuedMessages: 3, maxQueuedBytes: 1024);
    }

    /// <summary>The sender's view of a bare DEALER: a message starts only when its pipe has room.</summary>
    private sealed class SocketLink(DealerSocket socket) : Pigato.Internal.Links.IBrokerLink
    {
        public bool HasPending => false;

        public bool CopiesOnSend => false;

        public bool TryStartMessage(ref Msg frame, bool more) => socket.TrySend(ref frame, TimeSpan.Zero, more);

        public void SendMore(ref Msg frame, bool more) => socket.TrySend(ref frame, SendReceiveConstants.InfiniteTimeout, more);

        public bool TryReceive(ReceivedFrames frames) => frames.TryReceive(socket);

        public void Flush()
        {
        }

        public void Abandon()
        {
        }

        public void Dispose()
        {
        }
    }

    private bool Send(string first, string second)
    {
        _sender.Write(System.Text.Encoding.UTF8.GetBytes(first), more: true);
        _sender.Write(System.Text.Encoding.UTF8.GetBytes(second), more: false);
        return _sender.EndMessage();
    }

    private string Receive()
    {
        var message = new NetMQMessage();
        Assert.True(_broker.TryReceiveMultipartMessage(TimeSpan.FromSeconds(5), ref message), "a message for the broker");
        return string.Join(" ", message.Skip(1).Select(f => f.ConvertToString()));
    }

    [Fact]
    public void AFullPipe_QueuesLocally_WithoutWaiting_InOrder_UpToTheBound()
    {
        // Nothing reads: the pipe takes a message or two, then every send is queued at once (none waits for room).
        var sent = 0;
        while (!_sender.HasQueued && sent < 10)
        {
            Assert.True(Send("m", sent.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            sent++;
        }

        Assert.True(_sender.HasQueued, "a message waits locally");
        var written = sent;
        while (Send("m", written.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            written++;
            Assert.True(written - sent < 3, "the queue is bounded by count");
        }

        Assert.Equal(2, written - sent); // with the one that found the pipe full: three wait

        // The broker reads everything; the queue drains behind what went first, in the order written.
        var received = new List<string>();
        for (var i = 0; i < written; i++)
        {
            received.Add(Receive());
            _sender.Drain();
        }

        Assert.Equal(Enumerable.Range(0, written).Select(i => $"m {i}"), received);
        Assert.False(_sender.HasQueued);
        Assert.Equal(0, _sender.QueuedBytes);
    }

    [Fact]
    public void TheQueue_IsBoundedByBytes_AndAMessageBehindOthersNeverOvertakesThem()
    {
        for (var i = 0; i < 10 && !_sender.HasQueued; i++)
        {
            Send("fill", "x");
        }

        Assert.True(_sender.HasQueued, "a message waits locally");

        Assert.False(Send("big", new string('b', 2000)));
        Assert.True(Send("small", "after"));
        Assert.True(_sender.QueuedBytes is > 0 and <= 1024);
    }

    public void Dispose()
    {
        _dealer.Options.Linger = TimeSpan.Zero;
        _dealer.Dispose();
        _broker.Dispose();
    }
}
