// A worker service on the generic host: `upper` answers with the text in capitals. Stop it with Ctrl+C:
// it takes no more requests, finishes those in flight within its grace period, then disconnects.
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Pigato;
using Pigato.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddPigatoWorker<UpperHandler>("upper", builder.Configuration.GetSection("Pigato:Worker"));
await builder.Build().RunAsync();

/// <summary>Resolved in a scope of its own for each request, so it can take scoped services.</summary>
internal sealed partial class UpperHandler(ILogger<UpperHandler> logger) : IPigatoHandler<string>
{
    public async ValueTask HandleAsync(string? data, WorkerReply reply, JsonElement options)
    {
        LogRequest(logger, reply.RequestId);
        await reply.EndAsync(data?.ToUpperInvariant());
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "upper: request {RequestId}")]
    private static partial void LogRequest(ILogger logger, string requestId);
}
