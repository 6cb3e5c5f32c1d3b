using System.Text.Json;
using Pigato.Protocol;

namespace Pigato;

/// <summary>The base of every error Pigato raises; <see cref="Code"/> is a stable code from <see cref="PigatoErrorCodes"/>.</summary>
public class PigatoException : Exception
{
    /// <summary>Creates an exception with a code and a message.</summary>
    public PigatoException(string code, string message, Exception? innerException = null)
        : base(message, innerException) => Code = code;

    /// <summary>The stable error code.</summary>
    public string Code { get; }
}

/// <summary>A request had no activity for longer than its timeout (<c>C_TIMEOUT</c>).</summary>
public sealed class PigatoTimeoutException(string service, TimeSpan timeout)
    : PigatoException(PigatoErrorCodes.Timeout, $"Request to '{service}' had no reply for {timeout.TotalMilliseconds:0} ms ({PigatoErrorCodes.Timeout}).")
{
    /// <summary>The service that was asked.</summary>
    public string Service { get; } = service;
}

/// <summary>A worker (or the broker on its behalf) answered with an error reply (status <c>-1</c>).</summary>
/// <remarks><see cref="PigatoException.Code"/> is the error value when it is a string, else <c>ERR_REPLY</c>.</remarks>
public sealed class PigatoReplyException(string service, JsonElement error)
    : PigatoException(error.ValueKind == JsonValueKind.String ? error.GetString()! : PigatoErrorCodes.Reply, $"Request to '{service}' failed: {(error.ValueKind == JsonValueKind.Undefined ? "(no error value)" : error.GetRawText())}")
{
    /// <summary>The service that was asked.</summary>
    public string Service { get; } = service;

    /// <summary>The error value the worker sent (any JSON value).</summary>
    public JsonElement Error { get; } = error;
}

/// <summary>Arguments of the <c>Error</c> events: something went wrong that did not stop the actor.</summary>
public sealed class PigatoErrorEventArgs(string code, string message, string? peerId = null, Exception? exception = null) : EventArgs
{
    /// <summary>A stable code from <see cref="PigatoErrorCodes"/>.</summary>
    public string Code { get; } = code;

    /// <summary>What happened, for people.</summary>
    public string Message { get; } = message;

    /// <summary>The identity of the peer involved, when there is one.</summary>
    public string? PeerId { get; } = peerId;

    /// <summary>The exception behind it, when there is one.</summary>
    public Exception? Exception { get; } = exception;

    /// <inheritdoc />
    public override string ToString() => PeerId is null ? $"{Code}: {Message}" : $"{Code} ({PeerId}): {Message}";
}
