namespace Pigato;

/// <summary>
/// The broker ended the request itself: the worker holding it was lost (<c>ERR_WORKER_LOST</c>), the broker
/// stopped (<c>ERR_BROKER_STOPPED</c>), and the like.
/// </summary>
/// <remarks>
/// A .NET broker marks its own error replies so that a worker cannot imitate them: a worker's error value
/// <c>"ERR_WORKER_LOST"</c> arrives as a <see cref="PigatoReplyException"/>, never as this type.
/// </remarks>
public sealed class PigatoBrokerException(string service, string code)
    : PigatoException(code, $"The broker ended the request to '{service}': {code}.")
{
    /// <summary>The service that was asked.</summary>
    public string Service { get; } = service;
}
