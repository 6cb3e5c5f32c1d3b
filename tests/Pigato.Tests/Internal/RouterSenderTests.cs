using Microsoft.Extensions.Time.Testing;
using NetMQ;
using NetMQ.Sockets;
using Pigato.Internal;
using Pigato.Routing;

namespace Pigato.Tests.Internal;

/// <summary>The slow-consumer rule on a real (inproc) pipe of one message each way and a fake clock.</summary>
public sealed class RouterSenderTests : IDisposable
{
    private readonly RouterSocket _router = new();
    private readonly DealerSocket _peer = new();
    private readonly FakeTimeProvider _time = new();
    private readonly RouterSender _sender;
    private readonly Pigato.Internal.Links.NetMqRouterLink _link;
    private readonly List<string> _slow = [];

    public RouterSenderTests()
    {
        var endpoint = $"inproc://router-sender-{Guid.NewGuid():N}";
        _router.Options.RouterMandatory = true;
        _router.Options.SendHighWatermark = 1;
        var link = _link = new Pigato.Internal.Links.NetMqRouterLink(_router, endpoint);
        _peer.Options.Identity = "peer"u8.ToArray();
        _peer.Options.ReceiveHighWatermark = 1;
        _peer.Connect(endpoint);
        _peer.SendFrame("hello");
        var hello = new NetMQMessage();
        Assert.True(_router.TryReceiveMultipartMessage(TimeSpan.FromSeconds(5), ref hello), "the router knows the peer");
        _sender = new RouterSender(link, new BrokerOptions { SlowConsumerTimeout = TimeSpan.FromSeconds(10) }, _time);
    }

    private SendResult Send(string text)
    {
        _sender.Write("peer"u8.ToArray(), more: true);
        _sender.Write(System.Text.Encoding.UTF8.GetBytes(text), more: false);
        return _sender.EndMessage();
    }

    private void Drain()
    {
        var outcomes = new List<PeerOutcome>();
        _sender.Drain(outcomes);
        _slow.AddRange(outcomes.Where(o => o.Result == SendResult.Overflow).Select(o => System.Text.Encoding.UTF8.GetString(o.Identity)));
    }

    [Fact]
    public void APeerThatKeepsUp_IsNeverSlow_ButOneWhoseOldestWaitingMessageIsOlderThanTheTimeoutIs()
    {
        // Fill the pipe until a message has to wait: it waits from t = 0.
        var sent = 0;
        while (Send($"m{sent}") == SendResult.Sent && sent < 10)
        {
            sent++;
        }

        Assert.True(_sender.HasQueued, "a message waits for the peer");
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.Equal(SendResult.Queued, Send("later")); // waits from t = 6 s, behind the first

        // The peer reads one message: the oldest waiting one goes, the later one still waits.
        Assert.True(_peer.TryReceiveFrameString(TimeSpan.FromSeconds(5), out _));
        Drain();
        Assert.True(_sender.HasQueued);

        // t = 11 s: the queue has existed for 11 s, but what waits has waited 5 s: not slow.
        _time.Advance(TimeSpan.FromSeconds(5));
        Drain();
        Assert.Empty(_slow);

        // t = 17 s: the later message has waited 11 s: slow, and its queue is dropped.
        _time.Advance(TimeSpan.FromSeconds(6));
        Drain();
        Assert.Equal(["peer"], _slow);
        Assert.False(_sender.HasQueued);
    }

    [Fact]
    public void AFullQueue_RefusesAMessage_ButOnePastTheBoundIsQueued()
    {
        var sender = new RouterSender(_link, new BrokerOptions { MaxQueuedPerPeer = 2 }, _time);
        SendResult SendWith(RouterSender to, string text, bool pastTheBound = false)
        {
            to.StartMessage("peer"u8.ToArray(), advisory: false, pastTheBound);
            to.Write(System.Text.Encoding.UTF8.GetBytes(text), more: false);
            return to.EndMessage();
        }

        var sent = 0;
        while (SendWith(sender, $"m{sent}") == SendResult.Sent && sent < 10)
        {
            sent++;
        }

        Assert.Equal(SendResult.Queued, SendWith(sender, "second waiting"));
        Assert.Equal(SendResult.Overflow, SendWith(sender, "third waiting"));
        Assert.Equal(SendResult.Queued, SendWith(sender, "why the request ended", pastTheBound: true));
        Assert.Equal(SendResult.Overflow, SendWith(sender, "and nothing more after it"));
    }

    public void Dispose()
    {
        _peer.Dispose();
        _router.Dispose();
    }
}
