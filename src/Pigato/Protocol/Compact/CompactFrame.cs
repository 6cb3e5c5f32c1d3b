using System.Buffers;

namespace Pigato.Protocol.Compact;

/// <summary>
/// The v2 ("compact") framing of docs/PROTOCOL-V2.md: a whole message in one frame, <c>0x02</c>, kind, flags, then
/// fields each prefixed by its length as an unsigned LEB128 varint. Which fields a kind carries is the caller's rule;
/// this type only writes and reads the layout, and refuses anything malformed without throwing.
/// </summary>
internal static class CompactFrame
{
    /// <summary>The first byte of every v2 frame (a v1 message starts with the one-byte frame <c>C</c> or <c>W</c>).</summary>
    public const byte Version = 0x02;

    /// <summary>Bit 7 of the kind byte: the message is on the worker side (v1's <c>W</c>).</summary>
    public const byte WorkerSide = 0x80;

    /// <summary>The kind of a batch: every field is a whole v2 message (never a batch itself), sent by a .NET client or worker.</summary>
    public const byte BatchKind = 0x00;

    /// <summary>Most fields a message carries.</summary>
    public const int MaxFields = 5;

    /// <summary>Version, kind and flags.</summary>
    public const int HeaderLength = 3;
    private const int MaxVarintLength = 5;

    /// <summary>The frame's length for these fields.</summary>
    public static int Measure(ReadOnlySpan<ReadOnlyMemory<byte>> fields)
    {
        var length = HeaderLength;
        foreach (var field in fields)
        {
            length += FieldLength(field.Length);
        }

        return length;
    }

    /// <summary>Writes a message into <paramref name="destination"/> (at least <see cref="Measure"/> bytes); returns the bytes written.</summary>
    public static int Write(Span<byte> destination, byte kind, byte flags, ReadOnlySpan<ReadOnlyMemory<byte>> fields)
    {
        if (fields.Length > MaxFields)
        {
            throw new ArgumentOutOfRangeException(nameof(fields), $"A v2 message carries at most {MaxFields} fields.");
        }

        var at = WriteHeader(destination, kind, flags);
        foreach (var field in fields)
        {
            at += WriteField(destination[at..], field.Span);
        }

        return at;
    }

    /// <summary>The bytes a field of <paramref name="length"/> bytes takes, its length prefix included.</summary>
    public static int FieldLength(int length) => VarintLength((uint)length) + length;

    /// <summary>Writes the header; returns its length.</summary>
    public static int WriteHeader(Span<byte> destination, byte kind, byte flags)
    {
        destination[0] = Version;
        destination[1] = kind;
        destination[2] = flags;
        return HeaderLength;
    }

    /// <summary>Writes one field with its length prefix; returns the bytes written (<see cref="FieldLength"/>).</summary>
    public static int WriteField(Span<byte> destination, ReadOnlySpan<byte> field)
    {
        var at = WriteVarint(destination, (uint)field.Length);
        field.CopyTo(destination[at..]);
        return at + field.Length;
    }

    /// <summary>A message as a new array (tests, and senders that keep the frame).</summary>
    public static byte[] Encode(byte kind, byte flags, params ReadOnlySpan<ReadOnlyMemory<byte>> fields)
    {
        var frame = new byte[Measure(fields)];
        Write(frame, kind, flags, fields);
        return frame;
    }

    /// <summary>Reads the length-prefixed field at <paramref name="at"/> (moved past it); false when malformed (a batch's messages).</summary>
    public static bool TryReadField(ReadOnlySpan<byte> frame, ref int at, out Range field)
    {
        field = default;
        if (!TryReadVarint(frame[at..], out var length, out var used) || length > (uint)(frame.Length - at - used))
        {
            return false;
        }

        field = new Range(at + used, at + used + (int)length);
        at += used + (int)length;
        return true;
    }

    /// <summary>True when <paramref name="frame"/> is a v2 frame at all (its first byte); it may still be malformed.</summary>
    public static bool IsCompact(ReadOnlySpan<byte> frame) => frame.Length >= HeaderLength && frame[0] == Version;

    /// <summary>Reads a frame; false with the reason when it is malformed (never throws on bad input).</summary>
    public static bool TryRead(ReadOnlySpan<byte> frame, out CompactMessage message, out string? error)
    {
        message = default;
        if (!IsCompact(frame))
        {
            error = "not a v2 frame (too short, or its first byte is not 0x02)";
            return false;
        }

        Span<Range> fields = stackalloc Range[MaxFields];
        var count = 0;
        var at = HeaderLength;
        while (at < frame.Length)
        {
            if (count == MaxFields)
            {
                error = $"more than {MaxFields} fields";
                return false;
            }

            if (!TryReadVarint(frame[at..], out var length, out var used))
            {
                error = $"a malformed length at byte {at}";
                return false;
            }

            at += used;
            if (length > (uint)(frame.Length - at))
            {
                error = $"a field of {length} bytes at byte {at} runs past the frame's {frame.Length} bytes";
                return false;
            }

            fields[count++] = new Range(at, at + (int)length);
            at += (int)length;
        }

        message = new CompactMessage(frame[1], frame[2], count, fields);
        error = null;
        return true;
    }

    private static int VarintLength(uint value)
    {
        var length = 1;
        while (value >= 0x80)
        {
            value >>= 7;
            length++;
        }

        return length;
    }

    /// <summary>Writes <paramref name="value"/> as a varint; returns its length.</summary>
    public static int WriteVarint(Span<byte> destination, uint value)
    {
        var at = 0;
        while (value >= 0x80)
        {
            destination[at++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[at++] = (byte)value;
        return at;
    }

    /// <summary>LEB128, at most 5 bytes, below 2^31, in its shortest form (so that one message has one encoding).</summary>
    private static bool TryReadVarint(ReadOnlySpan<byte> source, out uint value, out int used)
    {
        value = 0;
        used = 0;
        for (var shift = 0; used < MaxVarintLength && used < source.Length; shift += 7)
        {
            var b = source[used++];
            if (shift == 28 && b > 0x07)
            {
                return false;
            }

            value |= (uint)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value <= int.MaxValue && (used == 1 || b != 0);
            }
        }

        return false;
    }
}
