using System.Security.Cryptography;

namespace Pigato.Internal;

/// <summary>
/// Request ids as PIGATO makes them: random (version 4) uuids in their 36-character form. <see cref="Guid.NewGuid"/>
/// reads the kernel's random source once per id, a system call that was 6 % of a busy client's CPU; these ids come from
/// a buffer of cryptographically random bytes per thread, refilled every <see cref="IdsPerRefill"/> ids.
/// </summary>
internal static class RequestIds
{
    private const int IdsPerRefill = 256;
    private const int IdBytes = 16;

    [ThreadStatic]
    private static byte[]? t_random;

    [ThreadStatic]
    private static int t_next;

    /// <summary>A new request id as its frame: the uuid's 36 characters in UTF-8 (any thread).</summary>
    public static byte[] Next()
    {
        var random = t_random ??= new byte[IdBytes * IdsPerRefill];
        if (t_next == 0)
        {
            RandomNumberGenerator.Fill(random);
        }

        var id = random.AsSpan(t_next * IdBytes, IdBytes); // used once: its bits are set in place
        t_next = (t_next + 1) % IdsPerRefill;
        // RFC 9562's version 4 and variant bits, where Guid's layout keeps them (as Guid.NewGuid sets them).
        id[7] = (byte)((id[7] & 0x0F) | 0x40);
        id[8] = (byte)((id[8] & 0x3F) | 0x80);
        var frame = new byte[36];
        new Guid(id).TryFormat(frame, out _);
        return frame;
    }
}
