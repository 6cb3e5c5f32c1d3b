using System.Text;
using System.Text.Json;
using Pigato.Protocol;

namespace Pigato.Internal;

/// <summary>Reads data and options frames, which peers may leave empty, missing, <c>undefined</c> or not JSON at all.</summary>
internal static class JsonFrame
{
    /// <summary>The frame as a JSON value: undefined when absent; when not JSON, undefined or (if asked) the text as a string.</summary>
    public static JsonElement Parse(ReadOnlySpan<byte> frame, bool keepInvalidAsText)
    {
        if (PigatoFrames.IsAbsent(frame))
        {
            return default;
        }

        try
        {
            var reader = new Utf8JsonReader(frame);
            return JsonElement.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return keepInvalidAsText ? JsonSerializer.SerializeToElement(Encoding.UTF8.GetString(frame)) : default;
        }
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
