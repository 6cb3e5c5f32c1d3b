namespace Pigato;

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
