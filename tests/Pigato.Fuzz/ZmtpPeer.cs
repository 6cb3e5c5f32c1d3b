using System.Net;
using System.Net.Sockets;
using Pigato.Internal;
using Pigato.Internal.Links;
using Pigato.Internal.Links.Curve;

namespace Pigato.Fuzz;

/// <summary>
/// Feeds bytes to a <see cref="ZmtpSession"/> as a peer on the network would: over a real loopback connection (the session
/// reads a socket), the peer's side closed after the bytes, every whole message taken, until the session ends or reads
/// no more. The session must turn any bytes into messages or a <see cref="ZmtpSession.Failure"/>, never an exception.
/// </summary>
internal static class ZmtpPeer
{
    /// <summary>A key pair for the CURVE server target only (fixed, so that seeds made in one process open in another).</summary>
    public const string CurvePublicKey = ".Y8#Hkdsk/SwxmVnp9mz5La9yRjH)hX*5cvUax=0";
    private const string CurveSecretKey = "GuvHKyvPP?jNg?/hF)>nJf6z2wDqfr9cc&jfD-Hy";
    private const long MaxFrame = 64 * 1024;
    private const int MaxTurns = 10_000;

    /// <summary>The broker's side of a plain connection.</summary>
    public static ZmtpSettings Router { get; } = new("ROUTER", null, MaxFrame);

    /// <summary>The broker's side of a CURVE connection.</summary>
    public static ZmtpSettings CurveRouter { get; } = new("ROUTER", null, MaxFrame, CurveSettings.Server(CurveSecretKey));

    public static void Feed(ZmtpSettings settings, ReadOnlySpan<byte> bytes)
    {
        using var listener = Listen(); // one per input: every socket of a run is closed at its end
        using var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        peer.Connect(listener.LocalEndPoint!);
        using var session = new ZmtpSession(listener.Accept(), settings);
        if (!session.Start())
        {
            return;
        }

        peer.Send(bytes);
        peer.Shutdown(SocketShutdown.Send);
        var frames = new ReceivedFrames(64);
        for (var turn = 0; turn < MaxTurns && session.Socket.Poll(TimeSpan.FromSeconds(1), SelectMode.SelectRead); turn++)
        {
            var read = session.Read();
            while (session.TryTakeMessage(frames))
            {
                frames.Clear();
            }

            if (read < 0 || !session.Flush())
            {
                return;
            }
        }
    }

    private static Socket Listen()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        return listener;
    }
}
