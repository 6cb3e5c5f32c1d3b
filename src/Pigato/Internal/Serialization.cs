using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Pigato.Protocol;

namespace Pigato.Internal;

/// <summary>The ways data frames are written and read: JSON by options or by type info (trimming/AOT safe), or raw bytes.</summary>
internal static class Serialization
{
    /// <summary>A frame for <paramref name="value"/> written with its runtime type (reflection-based unless the options' resolver knows it).</summary>
    public static byte[] ToFrame(object? value, JsonSerializerOptions options) =>
        JsonSerializer.SerializeToUtf8Bytes(value, value?.GetType() ?? typeof(object), options);

    public static byte[] ToFrame<T>(T value, JsonTypeInfo<T> typeInfo) => JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);

    public static ReplyReader<T> Reader<T>(JsonSerializerOptions options) =>
        data => PigatoFrames.IsAbsent(data) ? default : JsonSerializer.Deserialize<T>(data, options);

    public static ReplyReader<T> Reader<T>(JsonTypeInfo<T> typeInfo) =>
        data => PigatoFrames.IsAbsent(data) ? default : JsonSerializer.Deserialize(data, typeInfo);

    /// <summary>The frame's bytes as they arrived (copied: the receive buffer is reused).</summary>
    public static ReplyReader<ReadOnlyMemory<byte>> Raw { get; } = data => data.ToArray();
}
