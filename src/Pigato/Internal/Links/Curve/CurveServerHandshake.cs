using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Pigato.Internal.Links.Curve;

/// <summary>
/// The server's side of the CURVE handshake: a HELLO sealed to our long-term key is answered with WELCOME (our short-term
/// key and a cookie only we can open), a valid INITIATE (the cookie back, the client's long-term key vouching for its
/// short-term one) with READY. Any client key is accepted: Pigato authenticates with tokens inside the encrypted channel.
/// </summary>
internal sealed class CurveServerHandshake : CurveHandshake
{
    private readonly byte[] _publicKey;
    private readonly byte[] _secretKey;
    private readonly byte[] _cookieKey = Random(Sodium.KeyBytes);
    private byte[]? _clientTransient;

    /// <param name="publicKey">Our long-term public key (S).</param>
    /// <param name="secretKey">Our long-term secret key (s).</param>
    /// <param name="metadata">Our properties, sent in READY.</param>
    public CurveServerHandshake(byte[] publicKey, byte[] secretKey, byte[] metadata)
        : base(metadata)
    {
        _publicKey = publicKey;
        _secretKey = secretKey;
    }

    public override byte[]? Begin() => null;

    public override bool Take(ReadOnlySpan<byte> command, out byte[]? reply)
    {
        reply = null;
        return _clientTransient is null ? TakeHello(command, out reply) : TakeInitiate(command, out reply);
    }

    /// <summary>HELLO (200 bytes, version 1.0): its signature must open under C' and our key; answered with WELCOME.</summary>
    private bool TakeHello(ReadOnlySpan<byte> hello, out byte[]? reply)
    {
        reply = null;
        if (hello.Length != 200 || !hello.StartsWith("\x05HELLO"u8) || hello[6] != 1 || hello[7] != 0)
        {
            return Fail("the client's first command is not a CURVE 1.0 HELLO");
        }

        var clientTransient = hello.Slice(80, 32);
        if (Unbox(hello[120..], "CurveZMQHELLO---"u8, hello.Slice(112, ShortNonceBytes), clientTransient, _secretKey) is null)
        {
            return Fail("the client's HELLO does not open under our key (it was given another server key)");
        }

        _clientTransient = clientTransient.ToArray();
        var cookieNonce = Random(16);
        var cookie = new byte[80];
        Sodium.SecretSeal(cookie, Concat(_clientTransient, TransientSecret), Nonce("COOKIE--"u8, cookieNonce), _cookieKey);
        var welcomeNonce = Random(16);
        var box = Box(Concat(TransientPublic, cookieNonce, cookie), "WELCOME-"u8, welcomeNonce, _clientTransient, _secretKey)!; // the HELLO opened under this key
        reply = Concat("\x07WELCOME"u8.ToArray(), welcomeNonce, box);
        return true;
    }

    /// <summary>INITIATE: our cookie, then Box[C + vouch + metadata](C' to S'), the vouch Box[C' + S](C to S'); answered with READY.</summary>
    private bool TakeInitiate(ReadOnlySpan<byte> initiate, out byte[]? reply)
    {
        reply = null;
        if (initiate.Length < 257 || !initiate.StartsWith("\x08INITIATE"u8))
        {
            return Fail("the client did not answer WELCOME with INITIATE");
        }

        var cookie = new byte[64];
        if (!Sodium.SecretOpen(cookie, initiate.Slice(25, 80), Nonce("COOKIE--"u8, initiate.Slice(9, 16)), _cookieKey)
            || !CryptographicOperations.FixedTimeEquals(cookie, Concat(_clientTransient!, TransientSecret)))
        {
            return Fail("the client's INITIATE carries a cookie we did not give");
        }

        var key = new byte[Sodium.KeyBytes];
        Sodium.SharedKey(key, _clientTransient, TransientSecret); // the HELLO opened under this key: it gives one
        var nonce = initiate.Slice(105, ShortNonceBytes);
        var opened = Unbox(initiate[113..], "CurveZMQINITIATE"u8, nonce, key);
        if (opened is null)
        {
            return Fail("the client's INITIATE does not open");
        }

        var clientKey = opened.AsSpan(0, 32);
        var vouch = Unbox(opened.AsSpan(48, 80), "VOUCH---"u8, opened.AsSpan(32, 16), clientKey, TransientSecret);
        if (vouch is null || !vouch.AsSpan().SequenceEqual(Concat(_clientTransient!, _publicKey)))
        {
            return Fail("the client's long-term key does not vouch for its connection key");
        }

        PeerMetadata = opened[128..];
        reply = Concat("\x05READY"u8.ToArray(), NoncedBox(Metadata, "CurveZMQREADY---"u8, key));
        Cipher = new CurveCipher(key, asServer: true, NextNonce, BinaryPrimitives.ReadUInt64BigEndian(nonce));
        return true;
    }
}
