using System.Text.Json;

namespace Pigato.Routing;

/// <summary>
/// What a worker's heartbeat (or READY extension frame) tells the broker: <c>{"concurrency": n, "update": true}</c>; a
/// .NET peer's READY or client hello also carries the framing it speaks (<c>"v": 2</c>) and its credential.
/// </summary>
/// <param name="Concurrency">The worker's current limit (-1 = none), when given.</param>
/// <param name="Update">A core service asks the broker to republish its directory.</param>
/// <param name="Principal">A .NET worker's credential: its principal (READY only, to a broker that requires it).</param>
/// <param name="Token">A .NET worker's credential: its token.</param>
/// <param name="Version">The highest framing the peer speaks (2: docs/PROTOCOL-V2.md); 0 when it says nothing (v1 only).</param>
internal readonly record struct WorkerStatus(int? Concurrency, bool Update, string? Principal = null, string? Token = null, int Version = 0)
{
    /// <summary>True when the peer announced the v2 framing.</summary>
    public bool SpeaksV2 => Version >= 2;

    /// <summary>Reads the frame; a missing, empty or non-JSON frame tells nothing (a broken heartbeat still proves the worker alive).</summary>
    public static WorkerStatus Parse(ReadOnlySpan<byte> json) => Internal.JsonFrame.ReadObject(json, default(WorkerStatus), ReadProperty);

    private static void ReadProperty(ref Utf8JsonReader reader, ref WorkerStatus result)
    {
        var isConcurrency = reader.ValueTextEquals("concurrency"u8);
        var isUpdate = reader.ValueTextEquals("update"u8);
        var isPrincipal = reader.ValueTextEquals("principal"u8);
        var isToken = reader.ValueTextEquals("token"u8);
        var isVersion = reader.ValueTextEquals("v"u8);
        reader.Read();
        if ((isPrincipal || isToken) && reader.TokenType == JsonTokenType.String)
        {
            result = isPrincipal ? result with { Principal = reader.GetString() } : result with { Token = reader.GetString() };
        }
        else if (isConcurrency && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var n))
        {
            result = result with { Concurrency = n < 0 ? -1 : n };
        }
        else if (isVersion && reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var v))
        {
            result = result with { Version = v };
        }
        else if (isUpdate)
        {
            result = result with { Update = reader.TokenType == JsonTokenType.True || (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var u) && u != 0) };
        }
        else
        {
            reader.Skip();
        }
    }
}
