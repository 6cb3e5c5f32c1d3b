using System.Text.Json;

namespace Pigato;

/// <summary>One reply of a request: a partial, or the final one.</summary>
/// <typeparam name="T">The reply data type.</typeparam>
/// <param name="Data">The data the worker sent (default when it sent none).</param>
/// <param name="IsFinal">True for the final reply, which ends the stream.</param>
/// <param name="Options">The reply's options object as the worker set it (<see cref="WorkerReply.ReplyOptions"/>); undefined when it sent none.</param>
public readonly record struct PigatoReply<T>(T? Data, bool IsFinal, JsonElement Options = default);
