using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Pigato.Internal;

/// <summary>
/// Client and worker instruments on the <c>Pigato</c> meter: request and handler durations by service and outcome, what
/// is in flight, errors by code. Tags are the service and the outcome only (never ids: they would not aggregate).
/// Recording costs a check when nobody listens.
/// </summary>
internal static class ActorMetrics
{
    private static readonly Meter Meter = new(Routing.BrokerMetrics.MeterName, typeof(ActorMetrics).Assembly.GetName().Version?.ToString());

    private static readonly Histogram<double> ClientDuration = Meter.CreateHistogram<double>(
        "pigato.client.request.duration", "s", "Time from sending a request to its final reply (or failure), by service and outcome.");

    private static readonly UpDownCounter<long> ClientInFlight = Meter.CreateUpDownCounter<long>(
        "pigato.client.requests.in_flight", "{request}", "Requests a client waits on, by service.");

    private static readonly Counter<long> ClientErrors = Meter.CreateCounter<long>(
        "pigato.client.request.errors", "{request}", "Requests that ended without a successful final reply, by service and error code.");

    private static readonly Histogram<double> WorkerDuration = Meter.CreateHistogram<double>(
        "pigato.worker.process.duration", "s", "Time a worker's handler took, by service and outcome.");

    private static readonly UpDownCounter<long> WorkerActive = Meter.CreateUpDownCounter<long>(
        "pigato.worker.requests.active", "{request}", "Handlers running, by service.");

    private static readonly Counter<long> WorkerErrors = Meter.CreateCounter<long>(
        "pigato.worker.process.errors", "{request}", "Handlers that failed (an exception, or an error reply), by service and error code.");

    public static void RequestSent(string service) => ClientInFlight.Add(1, Service(service));

    /// <summary>A client's request ended: <paramref name="error"/> is its code, null for a successful final reply.</summary>
    public static void RequestEnded(string service, TimeProvider time, long startedAt, string? error)
    {
        ClientInFlight.Add(-1, Service(service));
        if (ClientDuration.Enabled)
        {
            ClientDuration.Record(time.GetElapsedTime(startedAt).TotalSeconds, Service(service), Outcome(error));
        }

        if (error is not null)
        {
            ClientErrors.Add(1, Service(service), new KeyValuePair<string, object?>("error.type", error));
        }
    }

    public static void HandlerStarted(string service) => WorkerActive.Add(1, Service(service));

    /// <summary>A handler ended: <paramref name="error"/> is its error code, null when it ended well.</summary>
    public static void HandlerEnded(string service, TimeProvider time, long startedAt, string? error)
    {
        WorkerActive.Add(-1, Service(service));
        if (WorkerDuration.Enabled)
        {
            WorkerDuration.Record(time.GetElapsedTime(startedAt).TotalSeconds, Service(service), Outcome(error));
        }

        if (error is not null)
        {
            WorkerErrors.Add(1, Service(service), new KeyValuePair<string, object?>("error.type", error));
        }
    }

    private static KeyValuePair<string, object?> Service(string service) => new("messaging.destination.name", service);

    private static KeyValuePair<string, object?> Outcome(string? error) => new("pigato.outcome", error is null ? "ok" : "error");
}
