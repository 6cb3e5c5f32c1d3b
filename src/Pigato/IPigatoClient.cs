using System.Text.Json.Serialization.Metadata;

namespace Pigato;

/// <summary>What a caller of services needs from a PIGATO client; <see cref="Client"/> implements it (mock it in tests).</summary>
public interface IPigatoClient : IAsyncDisposable
{
    /// <summary>The current socket identity (<c>prefix-uuid</c>, new at every reconnection), or null when stopped.</summary>
    string? Id { get; }

    /// <summary>True once the broker has answered since the last (re)connection.</summary>
    bool IsConnected { get; }

    /// <summary>How many requests are waiting for their final reply.</summary>
    int PendingCount { get; }

    /// <summary>Sends a request and returns its final reply's data; partial replies are ignored.</summary>
    /// <typeparam name="TResult">The type the final reply's JSON data is read as (with <see cref="ClientOptions.SerializerOptions"/>).</typeparam>
    /// <param name="service">The service name (exact, or matched by a worker's wildcard or semver range).</param>
    /// <param name="data">The request data, sent as JSON by its runtime type (null is sent as <c>null</c>); for trimmed or AOT applications use the <see cref="JsonTypeInfo{T}"/> overload.</param>
    /// <param name="options">Request options; null for the client's defaults.</param>
    /// <param name="cancellationToken">Cancels the request: the call throws <see cref="OperationCanceledException"/>, the broker drops it if still queued, and the .NET worker holding it sees its token trip (a PIGATO worker sees it go inactive).</param>
    /// <exception cref="PigatoTimeoutException">No reply within the timeout (C_TIMEOUT).</exception>
    /// <exception cref="PigatoReplyException">The worker answered with an error value.</exception>
    /// <exception cref="PigatoBrokerException">The broker ended the request (worker lost, broker stopped).</exception>
    /// <exception cref="PigatoException">The client is not running, stopped or lost its connection meanwhile.</exception>
    ValueTask<TResult?> RequestAsync<TResult>(string service, object? data, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Sends a request and returns its whole final reply: the data read as <typeparamref name="TResult"/> and the options the worker set (<see cref="WorkerReply.ReplyOptions"/>).</summary>
    /// <inheritdoc cref="RequestAsync{TResult}(string, object?, RequestOptions?, CancellationToken)" path="/param"/>
    /// <inheritdoc cref="RequestAsync{TResult}(string, object?, RequestOptions?, CancellationToken)" path="/exception"/>
    ValueTask<PigatoReply<TResult>> RequestReplyAsync<TResult>(string service, object? data, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Sends a request and returns its final reply's data, both written and read with source-generated type info (trimming and AOT safe).</summary>
    /// <inheritdoc cref="RequestAsync{TResult}(string, object?, RequestOptions?, CancellationToken)" path="/exception"/>
    ValueTask<TResult?> RequestAsync<TRequest, TResult>(string service, TRequest data, JsonTypeInfo<TRequest> requestType, JsonTypeInfo<TResult> resultType, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Sends bytes as the request's data frame as they are, and returns the final reply's data frame and options as they arrived.</summary>
    /// <remarks>For callers who bring their own format. PIGATO peers expect JSON text; a .NET worker made with <see cref="Worker.CreateRaw"/> takes any bytes.</remarks>
    /// <inheritdoc cref="RequestAsync{TResult}(string, object?, RequestOptions?, CancellationToken)" path="/exception"/>
    ValueTask<PigatoReply<ReadOnlyMemory<byte>>> RequestRawAsync(string service, ReadOnlyMemory<byte> data, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Sends a request when enumeration starts and yields each partial reply, then the final one.</summary>
    /// <remarks>An error reply, a timeout or a stop ends the enumeration with the matching exception. Leaving the loop early abandons the request.</remarks>
    IAsyncEnumerable<PigatoReply<TResult>> RequestStreamAsync<TResult>(string service, object? data, RequestOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Sends a request with callbacks, as the original does: <c>(error, data)</c> for each partial and once at the end.</summary>
    /// <returns>The request id, for <see cref="SendRequestHeartbeat"/>.</returns>
    /// <remarks>Callbacks run on the client's thread, in order; the final one also receives timeouts and stops as errors.</remarks>
    string Request<TResult>(string service, object? data, Action<PigatoException?, TResult?>? onPartial, Action<PigatoException?, TResult?> onFinal, RequestOptions? options = null);

    /// <summary>
    /// Cancels a request sent with callbacks (<paramref name="requestId"/> as <see cref="Request{TResult}"/> returned it):
    /// its final callback gets <c>ERR_CANCELLED</c> at once, a Pigato for .NET broker drops it if still queued, and the
    /// .NET worker holding it sees its token trip (a PIGATO worker sees the request heartbeats stop). Cancelling the token
    /// of an awaited request, or leaving a reply stream early, does the same.
    /// </summary>
    /// <returns>False when the request is not pending (answered, failed or cancelled already).</returns>
    bool CancelRequest(string requestId);

    /// <summary>Tells the worker handling <paramref name="requestId"/> that the client still wants it (keeps its reply active).</summary>
    /// <exception cref="PigatoException">The client is not running (<c>ERR_NOT_RUNNING</c>).</exception>
    void SendRequestHeartbeat(string requestId);
}
