using Pigato.Internal.Links.Curve;
using Pigato.Security;

namespace Pigato.Tests.Internal;

/// <summary>The CURVE handshake and MESSAGE boxes of Pigato's transport, both sides in memory (no sockets).</summary>
public class CurveHandshakeTests
{
    private static readonly (string PublicKey, string SecretKey) ServerKeys = CurveKeys.Generate();

    [Fact]
    public void BothSides_AgreeOnAKey_ExchangeProperties_AndSealAndOpenEachOthersFrames()
    {
        var (client, server) = Handshake(ServerKeys.PublicKey);

        Assert.Equal("client-properties"u8.ToArray(), server.PeerMetadata);
        Assert.Equal("server-properties"u8.ToArray(), client.PeerMetadata);
        Assert.Equal("hello", Roundtrip(client.Cipher!, server.Cipher!, "hello", out var flags));
        Assert.Equal(1, flags);
        Assert.Equal("back", Roundtrip(server.Cipher!, client.Cipher!, "back", out _));
    }

    [Fact]
    public void AWrongServerKey_FailsAtTheServersFirstLook()
    {
        var client = CurveSettings.Client(CurveKeys.Generate().PublicKey).NewHandshake("c"u8.ToArray());
        var server = CurveSettings.Server(ServerKeys.SecretKey).NewHandshake("s"u8.ToArray());

        Assert.False(server.Take(client.Begin(), out var welcome));
        Assert.Null(welcome);
        Assert.Contains("another server key", server.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void ALowOrderKey_FailsTheHandshake_OnEitherSide()
    {
        // All zeros is a point of low order: X25519 gives no shared secret and libsodium refuses it. A HELLO carrying
        // it (found by fuzzing: it threw out of the broker's session) and a server key of zeros are failed handshakes.
        var server = CurveSettings.Server(ServerKeys.SecretKey).NewHandshake("s"u8.ToArray());
        var hello = CurveSettings.Client(ServerKeys.PublicKey).NewHandshake("c"u8.ToArray()).Begin()!;
        hello.AsSpan(80, 32).Clear();

        Assert.False(server.Take(hello, out _));
        Assert.Contains("does not open", server.Failure, StringComparison.Ordinal);

        var client = CurveSettings.Client(new string('0', 40)).NewHandshake("c"u8.ToArray());
        Assert.Null(client.Begin());
        Assert.Contains("no shared key", client.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public void AForgedAReplayedOrAShortMessage_DoesNotOpen()
    {
        var (client, server) = Handshake(ServerKeys.PublicKey);
        var message = Sealed(client.Cipher!, "once");
        var forged = (byte[])message.Clone();
        forged[^1] ^= 1;
        var replayed = (byte[])message.Clone();
        var plain = new byte[message.Length];

        Assert.Contains("does not open", server.Cipher!.Open(forged, plain), StringComparison.Ordinal);
        Assert.Null(server.Cipher.Open(message, plain));
        Assert.Contains("out of sequence", server.Cipher.Open(replayed, plain), StringComparison.Ordinal);
        Assert.Contains("other than a CURVE MESSAGE", server.Cipher.Open(message.AsSpan(0, 20), plain), StringComparison.Ordinal);
    }

    private static (CurveHandshake Client, CurveHandshake Server) Handshake(string serverKey)
    {
        var client = CurveSettings.Client(serverKey).NewHandshake("client-properties"u8.ToArray());
        var server = CurveSettings.Server(ServerKeys.SecretKey).NewHandshake("server-properties"u8.ToArray());
        Assert.Null(server.Begin());
        var hello = client.Begin()!;
        Assert.Equal(200, hello.Length);
        Assert.True(server.Take(hello, out var welcome), server.Failure);
        Assert.Equal(168, welcome!.Length);
        Assert.True(client.Take(welcome, out var initiate), client.Failure);
        Assert.True(server.Take(initiate!, out var ready), server.Failure);
        Assert.NotNull(server.Cipher);
        Assert.True(client.Take(ready!, out var none), client.Failure);
        Assert.Null(none);
        Assert.NotNull(client.Cipher);
        return (client, server);
    }

    private static byte[] Sealed(CurveCipher cipher, string text)
    {
        var body = System.Text.Encoding.UTF8.GetBytes(text);
        var message = new byte[CurveCipher.Overhead + body.Length];
        message[CurveCipher.FlagsOffset] = 1;
        body.CopyTo(message, CurveCipher.Overhead);
        cipher.Seal(message);
        return message;
    }

    private static string Roundtrip(CurveCipher sender, CurveCipher receiver, string text, out byte flags)
    {
        var message = Sealed(sender, text);
        Assert.Equal(-1, message.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(text))); // no plain text on the wire
        var plain = new byte[message.Length - CurveCipher.Overhead + 1];
        Assert.Null(receiver.Open(message, plain));
        flags = plain[0];
        return System.Text.Encoding.UTF8.GetString(plain.AsSpan(1));
    }
}
