using System.Text;

namespace Pigato.Routing;

/// <summary>
/// Dictionary keys made from identity and rid frames: one char per byte (Latin-1), so that two different
/// binary identities never map to the same key, and look-ups by frame that allocate nothing for short keys.
/// </summary>
internal static class PeerKey
{
    private const int StackLimit = 512;

    /// <summary>Separates a client's identity from a rid in a request key: outside Latin-1, so never part of either.</summary>
    private const char Separator = '\u0100';

    public static string Of(ReadOnlySpan<byte> identity) => Encoding.Latin1.GetString(identity);

    /// <summary>The identity a key of <see cref="Of(ReadOnlySpan{byte})"/> was made from, as text (listings, logs).</summary>
    public static string Text(string key) => Internal.Utf8.Decode(Encoding.Latin1.GetBytes(key));

    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static string Of(ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid)
    {
        var length = clientId.Length + 1 + rid.Length;
        Span<char> chars = length <= StackLimit ? stackalloc char[length] : new char[length];
        Fill(chars, clientId, rid);
        return new string(chars);
    }

    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static bool TryGet<TValue>(Dictionary<string, TValue> dictionary, ReadOnlySpan<byte> identity, out TValue value)
    {
        Span<char> chars = identity.Length <= StackLimit ? stackalloc char[identity.Length] : new char[identity.Length];
        Encoding.Latin1.GetChars(identity, chars);
        return dictionary.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars, out value!);
    }

    [System.Runtime.CompilerServices.SkipLocalsInit]
    public static bool TryGet<TValue>(Dictionary<string, TValue> dictionary, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid, out TValue value)
    {
        var length = clientId.Length + 1 + rid.Length;
        Span<char> chars = length <= StackLimit ? stackalloc char[length] : new char[length];
        Fill(chars, clientId, rid);
        return dictionary.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars, out value!);
    }

    private static void Fill(Span<char> chars, ReadOnlySpan<byte> clientId, ReadOnlySpan<byte> rid)
    {
        Encoding.Latin1.GetChars(clientId, chars);
        chars[clientId.Length] = Separator;
        Encoding.Latin1.GetChars(rid, chars[(clientId.Length + 1)..]);
    }
}
