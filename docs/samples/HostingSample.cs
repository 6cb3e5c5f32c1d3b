using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Pigato;
using Pigato.Hosting;
using Pigato.Management;

/// <summary>The samples of "Getting started" (hosting) and "Observability".</summary>
internal static class HostingSample
{
    public static async Task RunAsync(string[] args)
    {
        // <hosting>
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddPigatoBroker(builder.Configuration.GetSection("Pigato:Broker"));              // optional
        builder.Services.AddPigatoWorker<UpperHandler>("upper", builder.Configuration.GetSection("Pigato:Worker"));
        builder.Services.AddPigatoClient(builder.Configuration.GetSection("Pigato:Client"));              // inject Client
        // </hosting>

        // <telemetry>
        builder.Services.AddOpenTelemetry().WithTracing(t => t.AddSource(Broker.ActivitySourceName))
                                           .WithMetrics(m => m.AddMeter(Broker.MeterName));
        // </telemetry>

        // <management>
        builder.Services.AddPigatoBrokerManagement(builder.Configuration.GetSection("Pigato:Management"));  // Url, Token, SampleInterval, History, MaxEntries
        // </management>

        await builder.Build().RunAsync();
    }
}

// <handler>
internal sealed class UpperHandler(ILogger<UpperHandler> logger) : IPigatoHandler<string>     // one DI scope per request
{
    public ValueTask HandleAsync(string? data, WorkerReply reply, JsonElement options)
    {
        logger.LogDebug("upper {Data}", data);
        return reply.EndAsync(data?.ToUpperInvariant());
    }
}
// </handler>
