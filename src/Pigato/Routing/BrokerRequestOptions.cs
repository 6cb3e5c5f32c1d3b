using System.Text.Json;

namespace Pigato.Routing;

/// <summary>The request options a broker acts on, read from the options frame without building a DOM.</summary>
/// <param name="Timeout">Milliseconds from arrival before a queued request expires; -1 never.</param>
/// <param name="Retry">Re-queue the request when its worker is lost.</param>
/// <param name="WorkerId">Only this worker may take the request.</param>
/// <param name="Persist">The request asked to be persisted.</param>
/// <param name="FailWithoutWorkers">Fail at once when no worker can serve it; null: the broker's default.</param>
/// <param name="Deadline">Milliseconds the request's caller still waits, counted from arrival (its whole budget, not renewed by activity); -1 none.</param>
/// <param name="WorkersLost">Workers lost while they held it, as the broker counted them (a <c>persist</c> request read back from the store keeps its count).</param>
internal readonly record struct BrokerRequestOptions(long Timeout, bool Retry, string? WorkerId, bool Persist, bool? FailWithoutWorkers = null, long Deadline = -1, int WorkersLost = 0)
{
    /// <summary>The original client's default timeout (60 s) applies when the frame has none.</summary>
    public const long DefaultTimeout = 60_000;

    public static BrokerRequestOptions Default => new(DefaultTimeout, false, null, false);

    /// <summary>Reads the options; a missing, empty or non-JSON frame yields the defaults (a broken one keeps what was read).</summary>
    public static BrokerRequestOptions Parse(ReadOnlySpan<byte> json) => Internal.JsonFrame.ReadObject(json, Default, ReadProperty);

    private static void ReadProperty(ref Utf8JsonReader reader, ref BrokerRequestOptions result)
    {
        if (reader.ValueTextEquals("timeout"u8))
        {
            reader.Read();
            result = result with { Timeout = ReadTimeout(ref reader) };
        }
        else if (reader.ValueTextEquals("deadline"u8))
        {
            reader.Read();
            result = result with { Deadline = reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var ms) ? (long)Math.Clamp(ms, 0, long.MaxValue / 2) : -1 };
        }
        else if (reader.ValueTextEquals("retry"u8))
        {
            reader.Read();
            result = result with { Retry = IsTruthy(ref reader) };
        }
        else if (reader.ValueTextEquals("persist"u8))
        {
            reader.Read();
            result = result with { Persist = IsTruthy(ref reader) };
        }
        else if (reader.ValueTextEquals("failWithoutWorkers"u8))
        {
            reader.Read();
            result = result with { FailWithoutWorkers = IsTruthy(ref reader) };
        }
        else if (reader.ValueTextEquals("workersLost"u8))
        {
            reader.Read();
            result = result with { WorkersLost = reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var lost) ? Math.Max(0, lost) : 0 };
        }
        else if (reader.ValueTextEquals("workerId"u8))
        {
            reader.Read();
            result = result with { WorkerId = reader.TokenType == JsonTokenType.String ? reader.GetString() : null };
        }
        else
        {
            reader.Read();
            reader.Skip();
        }
    }

    private static long ReadTimeout(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var ms))
        {
            return ms < 0 ? -1 : (long)Math.Min(ms, long.MaxValue / 2);
        }

        reader.Skip();
        return DefaultTimeout;
    }

    // JavaScript truthiness for the values PIGATO clients send (1, true, "1").
    private static bool IsTruthy(ref Utf8JsonReader reader)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                return true;
            case JsonTokenType.Number:
                return reader.TryGetDouble(out var n) && n != 0;
            case JsonTokenType.String:
                return reader.ValueSpan.Length > 0;
            default:
                reader.Skip();
                return false;
        }
    }
}
