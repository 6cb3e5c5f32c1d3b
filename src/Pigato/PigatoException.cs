namespace Pigato;

/// <summary>The base of every error Pigato raises; <see cref="Code"/> is a stable code from <see cref="PigatoErrorCodes"/>.</summary>
/// <remarks>
/// The subclasses say who decided the outcome: <see cref="PigatoReplyException"/> the worker (its error value),
/// <see cref="PigatoBrokerException"/> the broker, <see cref="PigatoTimeoutException"/> the client's clock;
/// a plain <see cref="PigatoException"/> is the client's own (stopped, reconnected, not running).
/// </remarks>
public class PigatoException : Exception
{
    /// <summary>Creates an exception with a code and a message.</summary>
    public PigatoException(string code, string message, Exception? innerException = null)
        : base(message, innerException) => Code = code;

    /// <summary>The stable error code.</summary>
    public string Code { get; }
}
