using System.Buffers.Binary;

namespace Pigato.Internal.Links.Curve;

/// <summary>
/// Seals and opens the MESSAGE commands of one CURVE connection once its handshake is done: every frame travels as
/// <c>"\x07MESSAGE", nonce (8), Box[flags (1), body](shared key)</c>, the flags byte carrying MORE (1) and COMMAND (2), each
/// side counting its nonces up from where the handshake left them and refusing a peer's nonce that does not rise (a
/// replayed or reordered message), as libzmq does.
/// </summary>
internal sealed class CurveCipher
{
    /// <summary>What a frame grows by: the command name and nonce (16), the MAC (16) and the flags byte.</summary>
    public const int Overhead = 16 + Sodium.MacBytes + 1;

    /// <summary>Where a frame's flags byte sits in its MESSAGE; its body follows.</summary>
    public const int FlagsOffset = Overhead - 1;

    private readonly byte[] _key;
    private readonly byte[] _sendNonce = new byte[Sodium.NonceBytes];
    private readonly byte[] _receiveNonce = new byte[Sodium.NonceBytes];
    private ulong _nextNonce;
    private ulong _peerNonce;

    /// <param name="key">The key both sides share (their short-term keys).</param>
    /// <param name="asServer">True on the server's side: it seals with the prefix ending in S and opens those ending in C.</param>
    /// <param name="nextNonce">Our next short nonce (after the handshake's).</param>
    /// <param name="peerNonce">The peer's last short nonce (its last handshake command's).</param>
    public CurveCipher(byte[] key, bool asServer, ulong nextNonce, ulong peerNonce)
    {
        _key = key;
        (asServer ? "CurveZMQMESSAGES"u8 : "CurveZMQMESSAGEC"u8).CopyTo(_sendNonce);
        (asServer ? "CurveZMQMESSAGEC"u8 : "CurveZMQMESSAGES"u8).CopyTo(_receiveNonce);
        _nextNonce = nextNonce;
        _peerNonce = peerNonce;
    }

    /// <summary>
    /// Seals a MESSAGE in place: <paramref name="message"/> holds <see cref="Overhead"/> bytes of room, the flags byte at
    /// <see cref="FlagsOffset"/> and the frame's body after it; the command name, nonce and box are written over it.
    /// </summary>
    public void Seal(Span<byte> message)
    {
        // NaCl's padded form in place (as libzmq seals): zeros where the name and nonce go, then the MAC over them.
        message[..Sodium.ZeroBytes].Clear();
        BinaryPrimitives.WriteUInt64BigEndian(_sendNonce.AsSpan(16), _nextNonce++);
        Sodium.SealPadded(message, _sendNonce, _key);
        "\x07MESSAGE"u8.CopyTo(message);
        _sendNonce.AsSpan(16).CopyTo(message[8..]);
    }

    /// <summary>
    /// Opens a MESSAGE into <paramref name="plain"/> (its flags byte, then the body: <see cref="Overhead"/> - 1 bytes shorter
    /// than <paramref name="message"/>; the two may overlap), using <paramref name="message"/> as room; null when it opened,
    /// else why not.
    /// </summary>
    public string? Open(Span<byte> message, Span<byte> plain)
    {
        if (message.Length < Overhead || !message.StartsWith("\x07MESSAGE"u8))
        {
            return "the peer sent something other than a CURVE MESSAGE";
        }

        var nonce = BinaryPrimitives.ReadUInt64BigEndian(message[8..]);
        if (nonce <= _peerNonce)
        {
            return "a CURVE message out of sequence (replayed or reordered)";
        }

        message.Slice(8, 8).CopyTo(_receiveNonce.AsSpan(16));
        if (!Sodium.OpenPadded(message, _receiveNonce, _key))
        {
            return "a CURVE message that does not open (forged, damaged or under another key)";
        }

        message[FlagsOffset..].CopyTo(plain);
        _peerNonce = nonce;
        return null;
    }
}
