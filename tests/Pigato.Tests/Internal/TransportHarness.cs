using Microsoft.Extensions.Logging.Abstractions;
using NetMQ;
using NetMQ.Sockets;
using Pigato.Internal;
using Pigato.Routing;

namespace Pigato.Tests.Internal;

/// <summary>
/// The broker's transport and core on a real inproc ROUTER, driven by the test as the broker's loop would drive them,
/// and raw DEALER peers: what the broker sends is read frame by frame, with nothing between.
/// </summary>
internal sealed class TransportHarness : IDisposable
{
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private readonly string _endpoint = $"inproc://transport-{Guid.NewGuid():N}";
    private readonly List<DealerSocket> _peers = [];

    public TransportHarness(BrokerOptions options)
    {
        Router = SocketFactory.Router(options, "broker");
        Transport = new BrokerTransport(new Pigato.Internal.Links.NetMqRouterLink(Router, _endpoint), null, options, (code, _, _, _) => Errors.Add(code), output => new BrokerCore(options, output, TimeProvider.System, NullLogger.Instance));
    }

    public RouterSocket Router { get; }

    public BrokerTransport Transport { get; }

    /// <summary>The codes of the errors the transport reported.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>A peer, disposed with the harness unless the test disposes it first.</summary>
    public DealerSocket Peer(string identity, int receiveHighWatermark = 1000)
    {
        var dealer = new DealerSocket();
        dealer.Options.Identity = System.Text.Encoding.UTF8.GetBytes(identity);
        dealer.Options.Linger = TimeSpan.Zero;
        dealer.Options.ReceiveHighWatermark = receiveHighWatermark;
        dealer.Connect(_endpoint);
        _peers.Add(dealer);
        return dealer;
    }

    /// <summary>One turn of the broker's loop: what arrived is handled, then the batches it made are sent.</summary>
    public void Turn()
    {
        Transport.ReceiveWaiting();
        Transport.SendBatches();
    }

    /// <summary>Sends <paramref name="frames"/> and turns the broker's loop until it has handled them.</summary>
    public void Deliver(DealerSocket peer, params string[] frames)
    {
        for (var i = 0; i < frames.Length; i++)
        {
            peer.SendFrame(frames[i], i < frames.Length - 1);
        }

        Arrived();
    }

    /// <summary>Sends one v2 frame and turns the broker's loop until it has handled it.</summary>
    public void Deliver(DealerSocket peer, byte[] frame)
    {
        peer.SendFrame(frame);
        Arrived();
    }

    public static void Until(Func<bool> condition, string what)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < Bound, "Timed out waiting for " + what);
            Thread.Sleep(1);
        }
    }

    /// <summary>The next message to <paramref name="peer"/>, frames as text.</summary>
    public static List<string> Receive(DealerSocket peer)
    {
        var message = new NetMQMessage();
        Assert.True(peer.TryReceiveMultipartMessage(Bound, ref message), "a message from the broker");
        return [.. message.Select(frame => frame.BufferSize == 0 ? "" : frame.ConvertToString())];
    }

    public void Dispose()
    {
        foreach (var peer in _peers)
        {
            peer.Dispose();
        }

        Transport.Dispose();
        Router.Dispose();
    }

    private void Arrived()
    {
        Until(() => Router.HasIn, "the broker to receive it");
        Turn();
    }
}
