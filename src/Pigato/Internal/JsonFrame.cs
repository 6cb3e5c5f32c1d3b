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
}
