using System.Text;
using NetMQ;
using NetMQ.Sockets;

namespace Pigato.Internal;

/// <summary>Every socket Pigato makes is made here, so that socket-wide settings (limits, security) apply to all of them.</summary>
internal static class SocketFactory
{
    /// <summary>How far over <see cref="BrokerOptions.MaxMessageSize"/> one frame may be and still be read (and answered).</summary>
    public const int TransportSlack = 64 * 1024;

    /// <summary>How long the broker's unsent messages may delay its close.</summary>
    public static readonly TimeSpan RouterLinger = TimeSpan.FromMilliseconds(200);

    /// <summary>Messages the broker's ROUTER buffers from one peer: past it, that peer's TCP is not read until the broker catches up.</summary>
    public const int ReceiveHighWatermark = 1000;

    /// <summary>The broker's ROUTER: RouterMandatory so that no message to a gone or full peer is lost unnoticed.</summary>
    public static RouterSocket Router(BrokerOptions options, string name)
    {
        var router = new RouterSocket();
        router.Options.Identity = Encoding.UTF8.GetBytes(name);
        router.Options.RouterMandatory = true;

        // A peer whose TCP session drops reconnects under the same identity. Without handover NetMQ ignores the new
        // connection as a duplicate until the old pipe has terminated, and meanwhile fails sends to that identity
        // with HostUnreachable although the peer is back (README: "NetMQ and a reconnecting peer").
        router.Options.RouterHandover = true;
        router.Options.SendHighWatermark = options.SendHighWatermark;
        // What NetMQ buffers from one peer before it stops reading that peer's TCP (backpressure to a flooder).
        router.Options.ReceiveHighWatermark = ReceiveHighWatermark;
        // Frames a little over the message limit are still read, so that the sender gets an answer; a frame far
        // over it closes that connection in the transport before anything is allocated for it.
        router.Options.MaxMsgSize = options.MaxMessageSize + TransportSlack;
        router.Options.Linger = RouterLinger;
        CurveServer(router, options.CurveSecretKey);
        return router;
    }

    /// <summary>The broker's internal PUB channel for core services (encrypted like the ROUTER when CURVE is on).</summary>
    public static PublisherSocket Publisher(string? curveSecretKey)
    {
        var publisher = new PublisherSocket();
        publisher.Options.Linger = TimeSpan.Zero;
        CurveServer(publisher, curveSecretKey);
        return publisher;
    }

    /// <summary>A core service's subscription to the broker's internal channel.</summary>
    public static SubscriberSocket Subscriber(string? curveServerKey)
    {
        var subscriber = new SubscriberSocket();
        subscriber.Options.Linger = TimeSpan.Zero;
        CurveClient(subscriber, curveServerKey);
        return subscriber;
    }

    /// <summary>A CURVE server holds the broker's key pair.</summary>
    private static void CurveServer(NetMQSocket socket, string? secretKey)
    {
        if (secretKey is not null)
        {
            socket.Options.CurveServer = true;
            socket.Options.CurveCertificate = Security.CurveKeys.Certificate(secretKey);
        }
    }

    /// <summary>
    /// A CURVE client knows the broker's public key and uses a key pair of its own, made per socket: NetMQ has no ZAP,
    /// so the broker cannot tell client keys apart, and a long-lived client key would buy nothing.
    /// </summary>
    private static void CurveClient(NetMQSocket socket, string? serverKey)
    {
        if (serverKey is not null)
        {
            socket.Options.CurveServerKey = Security.CurveKeys.PublicKeyBytes(serverKey);
            socket.Options.CurveCertificate = new NetMQCertificate();
        }
    }

    /// <summary>A client's or worker's DEALER towards one broker.</summary>
    public static DealerSocket Dealer(string identity, ConnectionSettings settings)
    {
        var dealer = new DealerSocket();
        dealer.Options.Identity = Encoding.UTF8.GetBytes(identity);
        dealer.Options.Linger = settings.Linger;
        dealer.Options.SendHighWatermark = settings.SendHighWatermark;
        if (settings.MaxMessageSize > 0)
        {
            dealer.Options.MaxMsgSize = settings.MaxMessageSize + TransportSlack;
        }

        CurveClient(dealer, settings.CurveServerKey);
        return dealer;
    }
}
