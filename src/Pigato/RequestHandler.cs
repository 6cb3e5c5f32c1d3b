using System.Text.Json;

namespace Pigato;

/// <summary>Handles one request: reads <paramref name="data"/>, answers through <paramref name="reply"/>.</summary>
/// <typeparam name="TData">The type the request's JSON data is read as.</typeparam>
/// <param name="data">The request data (default when the client sent none).</param>
/// <param name="reply">Sends partial replies, the final reply, an error or a rejection.</param>
/// <param name="options">The whole options object the client sent (timeout, retry, user fields...); undefined when absent.</param>
/// <remarks>
/// When the returned task completes and the reply has not ended, the worker ends it with no data; when it
/// throws, the worker sends an error reply (the <see cref="PigatoException.Code"/> of a <see cref="PigatoException"/>,
/// else <c>ERR_WORKER_HANDLER</c>) and logs the exception.
/// </remarks>
public delegate ValueTask RequestHandler<in TData>(TData? data, WorkerReply reply, JsonElement options);
