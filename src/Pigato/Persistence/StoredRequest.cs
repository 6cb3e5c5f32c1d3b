using System.Buffers.Binary;

namespace Pigato.Persistence;

/// <summary>A <c>persist</c> request as the store keeps it: enough to queue it again after a restart or a take-over.</summary>
/// <param name="rid">The request id: the key (PIGATO clients make it a uuid).</param>
/// <param name="clientId">The identity of the client that sent it (a client that reconnects comes back under another one).</param>
/// <param name="service">The requested service.</param>
/// <param name="data">The request's data frame.</param>
/// <param name="options">The request's options frame.</param>
/// <param name="storedAt">When the broker accepted it, in Unix milliseconds (its timeout counts from there).</param>
public sealed class StoredRequest(byte[] rid, byte[] clientId, string service, byte[] data, byte[] options, long storedAt)
{
    private const byte Version = 1;

    /// <summary>The request id: the key.</summary>
    public byte[] Rid { get; } = rid;

    /// <summary>The identity of the client that sent it.</summary>
    public byte[] ClientId { get; } = clientId;

    /// <summary>The requested service.</summary>
    public string Service { get; } = service;

    /// <summary>The request's data frame.</summary>
    public byte[] Data { get; } = data;

    /// <summary>The request's options frame.</summary>
    public byte[] Options { get; } = options;

    /// <summary>When the broker accepted it, in Unix milliseconds.</summary>
    public long StoredAt { get; } = storedAt;

    /// <summary>The record as one binary value (all but the rid, the key): a version byte, then length-prefixed fields, then the time.</summary>
    public byte[] Encode()
    {
        var service = System.Text.Encoding.UTF8.GetBytes(Service);
        var buffer = new byte[1 + (4 * 4) + ClientId.Length + service.Length + Data.Length + Options.Length + 8];
        var span = buffer.AsSpan();
        span[0] = Version;
        var at = 1;
        foreach (var field in (ReadOnlySpan<byte[]>)[ClientId, service, Data, Options])
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], field.Length);
            field.CopyTo(span[(at + 4)..]);
            at += 4 + field.Length;
        }

        BinaryPrimitives.WriteInt64LittleEndian(span[at..], StoredAt);
        return buffer;
    }

    /// <summary>Reads a record made by <see cref="Encode"/> under its <paramref name="rid"/>; null when the bytes are not one.</summary>
    public static StoredRequest? Decode(byte[] rid, ReadOnlySpan<byte> value)
    {
        if (value.Length < 1 + 16 + 8 || value[0] != Version)
        {
            return null;
        }

        var fields = new byte[4][];
        var at = 1;
        for (var i = 0; i < fields.Length; i++)
        {
            if (at + 4 > value.Length)
            {
                return null;
            }

            var length = BinaryPrimitives.ReadInt32LittleEndian(value[at..]);
            // In long: a length near int.MaxValue must not wrap around and pass.
            if (length < 0 || (long)at + 4 + length > value.Length - 8)
            {
                return null;
            }

            fields[i] = value.Slice(at + 4, length).ToArray();
            at += 4 + length;
        }

        return at + 8 != value.Length ? null
            : new StoredRequest(rid, fields[0], System.Text.Encoding.UTF8.GetString(fields[1]), fields[2], fields[3], BinaryPrimitives.ReadInt64LittleEndian(value[at..]));
    }
}
