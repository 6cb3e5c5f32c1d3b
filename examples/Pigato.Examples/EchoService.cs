using System.Text.Json;

namespace Pigato.Examples;

/// <summary>The <c>echo</c> example service: answers with the request data.</summary>
public static class EchoService
{
    /// <summary>The service name of the example.</summary>
    public const string Name = "echo";

    /// <summary>The handler: the final reply is the request data.</summary>
    public static ValueTask HandleAsync(JsonElement data, WorkerReply reply, JsonElement options)
    {
        ArgumentNullException.ThrowIfNull(reply);
        return reply.EndAsync(data);
    }
}
