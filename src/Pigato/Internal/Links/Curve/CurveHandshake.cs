using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Pigato.Internal.Links.Curve;

/// <summary>
/// One side of a CurveZMQ handshake (RFC 26, as libzmq speaks it): the commands it sends and takes after the ZMTP
/// greeting, until both sides hold the key of the connection (<see cref="Cipher"/>). Every connection makes new
/// short-term keys, so a key that leaks later does not open what was recorded earlier.
/// </summary>
internal abstract class CurveHandshake
{
    protected const int ShortNonceBytes = 8;

    /// <summary>Our properties (Socket-Type, Identity), sent inside the last box of our side.</summary>
    protected CurveHandshake(byte[] metadata)
    {
        Metadata = metadata;
        Sodium.KeyPair(TransientPublic, TransientSecret);
    }

    /// <summary>The connection's cipher once the handshake is done; null before.</summary>
    public CurveCipher? Cipher { get; protected set; }

    /// <summary>The properties the peer sent (its Identity, Socket-Type), once the handshake is done.</summary>
    public byte[] PeerMetadata { get; protected set; } = [];

    /// <summary>Why the handshake failed, or null.</summary>
    public string? Failure { get; private set; }

    protected byte[] Metadata { get; }

    /// <summary>Our short-term key pair for this connection.</summary>
    protected byte[] TransientPublic { get; } = new byte[Sodium.KeyBytes];

    protected byte[] TransientSecret { get; } = new byte[Sodium.KeyBytes];

    /// <summary>Our short nonces: 1 for the first handshake command, rising by one per command and message.</summary>
    protected ulong NextNonce { get; set; } = 1;

    /// <summary>The command we send first once the greetings are exchanged (the client's HELLO), or null (the server waits, or it failed: <see cref="Failure"/>).</summary>
    public abstract byte[]? Begin();

    /// <summary>Takes the peer's next handshake command: the command to answer with (or null); false when the handshake failed (<see cref="Failure"/>).</summary>
    public abstract bool Take(ReadOnlySpan<byte> command, out byte[]? reply);

    protected bool Fail(string why)
    {
        Failure ??= why;
        return false;
    }

    /// <summary>
    /// A box sealed from <paramref name="ourSecret"/> to <paramref name="theirPublic"/> (crypto_box): the MAC and
    /// ciphertext; null when their key gives no shared key.
    /// </summary>
    protected static byte[]? Box(ReadOnlySpan<byte> message, ReadOnlySpan<byte> noncePrefix, ReadOnlySpan<byte> nonceSuffix, ReadOnlySpan<byte> theirPublic, ReadOnlySpan<byte> ourSecret)
    {
        Span<byte> key = stackalloc byte[Sodium.KeyBytes];
        if (!Sodium.SharedKey(key, theirPublic, ourSecret))
        {
            return null;
        }

        var box = new byte[message.Length + Sodium.MacBytes];
        Sodium.Seal(box, message, Nonce(noncePrefix, nonceSuffix), key);
        CryptographicOperations.ZeroMemory(key);
        return box;
    }

    /// <summary>Opens a box sealed by <paramref name="theirPublic"/> to <paramref name="ourSecret"/>; null when it does not open (or their key gives no shared key).</summary>
    protected static byte[]? Unbox(ReadOnlySpan<byte> box, ReadOnlySpan<byte> noncePrefix, ReadOnlySpan<byte> nonceSuffix, ReadOnlySpan<byte> theirPublic, ReadOnlySpan<byte> ourSecret)
    {
        Span<byte> key = stackalloc byte[Sodium.KeyBytes];
        if (!Sodium.SharedKey(key, theirPublic, ourSecret))
        {
            return null;
        }

        var opened = Unbox(box, noncePrefix, nonceSuffix, key);
        CryptographicOperations.ZeroMemory(key);
        return opened;
    }

    /// <summary>Opens a box sealed under a shared <paramref name="key"/>; null when it does not open.</summary>
    protected static byte[]? Unbox(ReadOnlySpan<byte> box, ReadOnlySpan<byte> noncePrefix, ReadOnlySpan<byte> nonceSuffix, ReadOnlySpan<byte> key)
    {
        if (box.Length < Sodium.MacBytes)
        {
            return null;
        }

        var message = new byte[box.Length - Sodium.MacBytes];
        return Sodium.Open(message, box, Nonce(noncePrefix, nonceSuffix), key) ? message : null;
    }

    /// <summary>A box sealed under a shared <paramref name="key"/> with our next short nonce: the nonce (8) then the box.</summary>
    protected byte[] NoncedBox(ReadOnlySpan<byte> message, ReadOnlySpan<byte> noncePrefix, ReadOnlySpan<byte> key)
    {
        var boxed = new byte[ShortNonceBytes + message.Length + Sodium.MacBytes];
        BinaryPrimitives.WriteUInt64BigEndian(boxed, NextNonce++);
        Sodium.Seal(boxed.AsSpan(ShortNonceBytes), message, Nonce(noncePrefix, boxed.AsSpan(0, ShortNonceBytes)), key);
        return boxed;
    }

    protected static byte[] Random(int length) => RandomNumberGenerator.GetBytes(length);

    protected static byte[] Concat(params ReadOnlySpan<byte[]> parts)
    {
        var length = 0;
        foreach (var part in parts)
        {
            length += part.Length;
        }

        var joined = new byte[length];
        var at = 0;
        foreach (var part in parts)
        {
            part.CopyTo(joined, at);
            at += part.Length;
        }

        return joined;
    }

    protected static byte[] Nonce(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> suffix)
    {
        var nonce = new byte[Sodium.NonceBytes];
        prefix.CopyTo(nonce);
        suffix.CopyTo(nonce.AsSpan(prefix.Length));
        return nonce;
    }
}
