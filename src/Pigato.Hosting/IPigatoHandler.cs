using System.Text.Json;

namespace Pigato.Hosting;

/// <summary>A request handler resolved from dependency injection, in a scope of its own for each request.</summary>
/// <typeparam name="TData">The type the request data is read as (System.Text.Json).</typeparam>
public interface IPigatoHandler<in TData>
{
    /// <summary>Handles one request; see <see cref="RequestHandler{TData}"/> for what happens when it returns or throws.</summary>
    ValueTask HandleAsync(TData? data, WorkerReply reply, JsonElement options);
}
