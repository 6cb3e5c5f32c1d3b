using System.Text;

namespace Pigato.Internal;

/// <summary>UTF-8 helpers for frames: decoding, and dictionary look-ups by frame without allocating a key.</summary>
internal static class Utf8
{
    private const int StackLimit = 256;

    public static string Decode(ReadOnlySpan<byte> frame) => frame.IsEmpty ? string.Empty : Encoding.UTF8.GetString(frame);

    /// <summary>Finds <paramref name="key"/> (UTF-8 bytes) in a string-keyed dictionary without allocating for short keys.</summary>
    public static bool TryGetValue<TValue>(Dictionary<string, TValue> dictionary, ReadOnlySpan<byte> key, out TValue value) =>
        Find(dictionary, key, static (Dictionary<string, TValue> d, ReadOnlySpan<char> k, out TValue v) => d.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(k, out v!), out value);

    private delegate bool Lookup<TTable, TValue>(TTable table, ReadOnlySpan<char> key, out TValue value);

    /// <summary>Decodes the key onto the stack (a UTF-8 key never has more chars than bytes) and looks it up as chars.</summary>
    [System.Runtime.CompilerServices.SkipLocalsInit]
    private static bool Find<TTable, TValue>(TTable table, ReadOnlySpan<byte> key, Lookup<TTable, TValue> lookup, out TValue value)
    {
        if (key.Length > StackLimit)
        {
            return lookup(table, Encoding.UTF8.GetString(key), out value);
        }

        Span<char> chars = stackalloc char[StackLimit];
        var length = Encoding.UTF8.GetChars(key, chars);
        return lookup(table, chars[..length], out value);
    }
}
