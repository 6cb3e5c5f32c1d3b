namespace Pigato;

/// <summary>A request had no activity for longer than its timeout (<c>C_TIMEOUT</c>).</summary>
public sealed class PigatoTimeoutException(string service, TimeSpan timeout)
    : PigatoException(PigatoErrorCodes.Timeout, $"Request to '{service}' had no reply for {timeout.TotalMilliseconds:0} ms ({PigatoErrorCodes.Timeout}).")
{
    /// <summary>The service that was asked.</summary>
    public string Service { get; } = service;
}
