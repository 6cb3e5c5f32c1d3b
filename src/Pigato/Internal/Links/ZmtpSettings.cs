using System.Buffers.Binary;
using System.Text;
using Pigato.Internal.Links.Curve;

namespace Pigato.Internal.Links;

/// <summary>
/// What every <see cref="ZmtpSession"/> of one link or router says about itself: its greeting (the NULL or CURVE
/// mechanism, as server or client), its properties (Socket-Type, Identity), the largest frame it accepts and its CURVE keys.
/// </summary>
internal sealed class ZmtpSettings
{
    /// <param name="socketType">DEALER (a client's or worker's link) or ROUTER (the broker).</param>
    /// <param name="identity">The identity a ROUTER routes to us by, or null.</param>
    /// <param name="maxFrame">The largest frame accepted from the peer.</param>
    /// <param name="curve">The CURVE keys, or null for the NULL mechanism (plain text).</param>
    public ZmtpSettings(string socketType, byte[]? identity, long maxFrame, CurveSettings? curve = null)
    {
        MaxFrame = maxFrame;
        Curve = curve;
        var metadata = new List<byte>();
        Property(metadata, "Socket-Type", Encoding.ASCII.GetBytes(socketType));
        if (identity is not null)
        {
            Property(metadata, "Identity", identity);
        }

        Metadata = [.. metadata];
        ReadyCommand = [.. "\x05READY"u8, .. Metadata];
        Greeting = new byte[ZmtpSession.GreetingSize];
        Greeting[0] = 0xFF;
        Greeting[9] = 0x7F;
        Greeting[10] = 3;
        Encoding.ASCII.GetBytes(curve is null ? "NULL" : "CURVE").CopyTo(Greeting, 12);
        Greeting[32] = curve is { AsServer: true } ? (byte)1 : (byte)0;
    }

    public long MaxFrame { get; }

    /// <summary>The CURVE keys, or null for plain text.</summary>
    public CurveSettings? Curve { get; }

    /// <summary>The mechanism named in our greeting.</summary>
    public string Mechanism => Curve is null ? "NULL" : "CURVE";

    /// <summary>Our greeting: ZMTP 3.0 and the mechanism.</summary>
    public byte[] Greeting { get; }

    /// <summary>Our properties in ZMTP's metadata form (name length, name, value length, value).</summary>
    public byte[] Metadata { get; }

    /// <summary>The body of the NULL mechanism's READY command.</summary>
    public byte[] ReadyCommand { get; }

    private static void Property(List<byte> metadata, string name, ReadOnlySpan<byte> value)
    {
        metadata.Add((byte)name.Length);
        metadata.AddRange(Encoding.ASCII.GetBytes(name));
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(size, value.Length);
        metadata.AddRange(size);
        metadata.AddRange(value);
    }
}
