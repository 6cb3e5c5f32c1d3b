using System.Buffers.Binary;

namespace Pigato.Internal.Links.Curve;

/// <summary>
/// The client's side of the CURVE handshake: HELLO, then WELCOME is answered with INITIATE (our long-term key, vouched
/// for, and our properties), and the server's READY ends it. A client knows the server by its long-term public key; a
/// WELCOME that does not open under it (another server, a wrong key) fails the handshake.
/// </summary>
internal sealed class CurveClientHandshake : CurveHandshake
{
    private readonly byte[] _serverKey;
    private readonly byte[] _publicKey;
    private readonly byte[] _secretKey;
    private byte[]? _key;

    /// <param name="serverKey">The server's long-term public key (S).</param>
    /// <param name="publicKey">Our long-term public key (C).</param>
    /// <param name="secretKey">Our long-term secret key (c).</param>
    /// <param name="metadata">Our properties, sent in INITIATE.</param>
    public CurveClientHandshake(byte[] serverKey, byte[] publicKey, byte[] secretKey, byte[] metadata)
        : base(metadata)
    {
        _serverKey = serverKey;
        _publicKey = publicKey;
        _secretKey = secretKey;
    }

    /// <summary>HELLO: version 1.0, 72 bytes of padding (a server answers with fewer), C', and Box[64 zeros](C' to S).</summary>
    public override byte[]? Begin()
    {
        var nonce = new byte[ShortNonceBytes];
        BinaryPrimitives.WriteUInt64BigEndian(nonce, NextNonce++);
        var signature = Box(new byte[64], "CurveZMQHELLO---"u8, nonce, _serverKey, TransientSecret);
        if (signature is null)
        {
            Fail("the CurveServerKey gives no shared key (not a usable public key)");
            return null;
        }

        return Concat("\x05HELLO"u8.ToArray(), [1, 0], new byte[72], TransientPublic, nonce, signature);
    }

    public override bool Take(ReadOnlySpan<byte> command, out byte[]? reply)
    {
        reply = null;
        return _key is null ? TakeWelcome(command, out reply) : TakeReady(command);
    }

    /// <summary>WELCOME: Box[S' + cookie](S to C'); answered with INITIATE: the cookie and Box[C + vouch + metadata](C' to S').</summary>
    private bool TakeWelcome(ReadOnlySpan<byte> welcome, out byte[]? reply)
    {
        reply = null;
        if (welcome.Length != 168 || !welcome.StartsWith("\x07WELCOME"u8))
        {
            return Fail("the server did not answer HELLO with WELCOME");
        }

        var opened = Unbox(welcome[24..], "WELCOME-"u8, welcome.Slice(8, 16), _serverKey, TransientSecret);
        if (opened is null)
        {
            return Fail("the server's WELCOME does not open under its public key (a wrong CurveServerKey?)");
        }

        var serverTransient = opened[..32];
        var cookie = opened[32..];
        var key = new byte[Sodium.KeyBytes];
        var vouchNonce = Random(16);
        if (!Sodium.SharedKey(key, serverTransient, TransientSecret)
            || Box(Concat(TransientPublic, _serverKey), "VOUCH---"u8, vouchNonce, serverTransient, _secretKey) is not { } vouch)
        {
            return Fail("the server's connection key gives no shared key");
        }

        _key = key;
        var box = NoncedBox(Concat(_publicKey, vouchNonce, vouch, Metadata), "CurveZMQINITIATE"u8, _key);
        reply = Concat("\x08INITIATE"u8.ToArray(), cookie, box);
        return true;
    }

    /// <summary>READY: Box[metadata](S' to C'): the server's properties; messages flow.</summary>
    private bool TakeReady(ReadOnlySpan<byte> ready)
    {
        if (ready.Length < 6 + ShortNonceBytes + Sodium.MacBytes || !ready.StartsWith("\x05READY"u8))
        {
            return Fail("the server did not answer INITIATE with READY");
        }

        var nonce = ready.Slice(6, ShortNonceBytes);
        var metadata = Unbox(ready[14..], "CurveZMQREADY---"u8, nonce, _key!);
        if (metadata is null)
        {
            return Fail("the server's READY does not open");
        }

        PeerMetadata = metadata;
        Cipher = new CurveCipher(_key!, asServer: false, NextNonce, BinaryPrimitives.ReadUInt64BigEndian(nonce));
        return true;
    }
}
