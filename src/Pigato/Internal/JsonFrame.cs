using System.Buffers;
using System.Text;
using System.Text.Json;
using Pigato.Protocol;

namespace Pigato.Internal;

/// <summary>Reads data and options frames, which peers may leave empty, missing, <c>undefined</c> or not JSON at all.</summary>
internal static class JsonFrame
{
    /// <summary>The JSON <paramref name="write"/> writes (after <paramref name="prefix"/>, when given), as one frame.</summary>
    public static byte[] Build<TState>(TState state, Action<Utf8JsonWriter, TState> write, ReadOnlySpan<byte> prefix = default)
    {
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write(prefix);
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json, state);
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Reads one property of an object: the reader is on its name, and must be left on the end of its value.</summary>
    public delegate void PropertyReader<TResult>(ref Utf8JsonReader reader, ref TResult result);

    /// <summary>
    /// Reads the properties of a JSON object frame into <paramref name="result"/>, one call of <paramref name="read"/> each, and
    /// returns what was read: an empty or non-object frame reads nothing, a broken one keeps what was read before the break
    /// (a peer's bad options must not fail its message), a string that is not valid UTF-8 included.
    /// </summary>
    public static TResult ReadObject<TResult>(ReadOnlySpan<byte> frame, TResult result, PropertyReader<TResult> read)
    {
        if (frame.IsEmpty)
        {
            return result;
        }

        try
        {
            var reader = new Utf8JsonReader(frame);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return result;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                read(ref reader, ref result);
            }
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException)
        {
            // Keep what was read. (The reader checks a string's UTF-8 only when it is read: InvalidOperationException.)
        }

        return result;
    }

    /// <summary>
    /// The frame as a JSON value: undefined when absent; when not JSON (or not UTF-8, which the reader would only find when
    /// a string is read), undefined or (if asked) the text as a string, invalid bytes replaced.
    /// </summary>
    public static JsonElement Parse(ReadOnlySpan<byte> frame, bool keepInvalidAsText)
    {
        if (PigatoFrames.IsAbsent(frame))
        {
            return default;
        }

        try
        {
            if (System.Text.Unicode.Utf8.IsValid(frame))
            {
                var reader = new Utf8JsonReader(frame);
                return JsonElement.ParseValue(ref reader);
            }
        }
        catch (JsonException)
        {
        }

        return keepInvalidAsText ? JsonSerializer.SerializeToElement(Encoding.UTF8.GetString(frame)) : default;
    }

    /// <summary>
    /// The options frame with <paramref name="fields"/> set (a null value removes the field); a frame that is absent or
    /// not a JSON object becomes one. Used where Pigato adds to what a request carries (attempt, principal, trace context).
    /// </summary>
    public static byte[] WithFields(ReadOnlySpan<byte> options, params (string Name, System.Text.Json.Nodes.JsonNode? Value)[] fields)
    {
        System.Text.Json.Nodes.JsonObject node;
        try
        {
            node = PigatoFrames.IsAbsent(options) ? [] : System.Text.Json.Nodes.JsonNode.Parse(options) as System.Text.Json.Nodes.JsonObject ?? [];
        }
        catch (JsonException)
        {
            node = [];
        }

        foreach (var (name, value) in fields)
        {
            if (value is null)
            {
                node.Remove(name);
            }
            else
            {
                node[name] = value;
            }
        }

        return JsonSerializer.SerializeToUtf8Bytes(node, JsonObjectContext.Default.JsonObject);
    }
}
