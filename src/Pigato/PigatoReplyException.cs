using System.Text.Json;

namespace Pigato;

/// <summary>The worker answered with an error reply (status <c>-1</c>) carrying its own error value.</summary>
/// <remarks>
/// <see cref="PigatoException.Code"/> is the error value when it is a string, else <c>ERR_REPLY</c>. The broker's own
/// outcomes never arrive as this type (see <see cref="PigatoBrokerException"/>), whatever value a worker sends.
/// </remarks>
public sealed class PigatoReplyException(string service, JsonElement error)
    : PigatoException(error.ValueKind == JsonValueKind.String ? error.GetString()! : PigatoErrorCodes.Reply, $"Request to '{service}' failed: {(error.ValueKind == JsonValueKind.Undefined ? "(no error value)" : error.GetRawText())}")
{
    /// <summary>The service that was asked.</summary>
    public string Service { get; } = service;

    /// <summary>The error value the worker sent (any JSON value).</summary>
    public JsonElement Error { get; } = error;
}
