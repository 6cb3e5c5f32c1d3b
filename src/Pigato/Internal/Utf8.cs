using System.Text;

namespace Pigato.Internal;

/// <summary>UTF-8 helpers for frames: decoding, and dictionary look-ups by frame without allocating a key.</summary>
internal static class Utf8
{
    private const int StackLimit = 256;

    public static string Decode(ReadOnlySpan<byte> frame) => frame.IsEmpty ? string.Empty : Encoding.UTF8.GetString(frame);

    /// <summary>Finds <paramref name="key"/> (UTF-8 bytes) in a string-keyed dictionary without allocating for short keys.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static bool TryGetValue<TValue>(Dictionary<string, TValue> dictionary, ReadOnlySpan<byte> key, out TValue value)
    {
        var lookup = dictionary.GetAlternateLookup<ReadOnlySpan<char>>();
        if (key.Length <= StackLimit)
        {
            Span<char> chars = stackalloc char[StackLimit];
            var length = Encoding.UTF8.GetChars(key, chars);
            return lookup.TryGetValue(chars[..length], out value!);
        }

        return lookup.TryGetValue(Encoding.UTF8.GetString(key), out value!);
    }
}
