using System.Text.Json;
using System.Text.Json.Serialization;
using Pigato.Monitoring;

namespace Pigato.Management;

/// <summary>One sample of the broker: rates over the interval before it, and what it held at that moment.</summary>
/// <param name="Time">When it was taken, in Unix milliseconds.</param>
/// <param name="Received">Requests accepted per second.</param>
/// <param name="Completed">Final replies per second.</param>
/// <param name="Errors">The broker's own errors per second (failed, refused, expired, abandoned).</param>
/// <param name="Rejected">Rejections by workers per second.</param>
/// <param name="SlowConsumers">Peers dropped as slow consumers in the interval.</param>
/// <param name="Queued">Requests waiting for a worker at that moment.</param>
/// <param name="InFlight">Requests workers held.</param>
/// <param name="Workers">Registered workers.</param>
/// <param name="Clients">Clients with requests in the broker.</param>
/// <param name="HeldBytes">Bytes held for requests.</param>
/// <param name="P50Ms">Median request duration in the interval (arrival to final reply), in milliseconds.</param>
/// <param name="P99Ms">99th percentile of the same.</param>
internal sealed record Sample(
    long Time, double Received, double Completed, double Errors, double Rejected, long SlowConsumers,
    int Queued, int InFlight, int Workers, int Clients, long HeldBytes, double P50Ms, double P99Ms);

/// <summary>The body of <c>/api/stats</c> and of every event of <c>/api/events</c>.</summary>
internal sealed record StatsDocument(
    string Broker,
    DateTimeOffset StartedAt,
    DateTimeOffset TakenAt,
    BrokerStats Stats,
    BrokerCounters Counters,
    LatencyDocument Latency,
    Sample? Rates,
    IReadOnlyList<ServiceSnapshot> Services,
    IReadOnlyList<WorkerDocument> Workers,
    IReadOnlyList<ClientSnapshot> Clients,
    IReadOnlyList<PoisonedRequestSnapshot> Poisoned,
    LimitsDocument Limits);

/// <summary>Request durations since the broker started, in milliseconds.</summary>
internal sealed record LatencyDocument(long Count, double MeanMs, double P50Ms, double P99Ms)
{
    public static LatencyDocument Of(DurationHistogram histogram) =>
        new(histogram.Count, Milliseconds(histogram.Mean), Milliseconds(histogram.Percentile(0.5)), Milliseconds(histogram.Percentile(0.99)));

    public static double Milliseconds(TimeSpan duration) => Math.Round(duration.TotalMilliseconds, 3);
}

/// <summary>A worker with its service statistics; <see cref="Load"/> is in flight over concurrency (null without a limit).</summary>
internal sealed record WorkerDocument(
    string Id, string Service, int InFlight, int Concurrency, double? Load, long Requests, long Served, long Errors, long Rejected,
    double AverageMs, double P99Ms, string? LastError, DateTimeOffset LastHeard, bool Backlogged)
{
    public static WorkerDocument Of(WorkerSnapshot w) =>
        new(w.Id, w.Service, w.InFlight, w.Concurrency, w.Concurrency > 0 ? Math.Round((double)w.InFlight / w.Concurrency, 3) : null, w.Requests, w.Served, w.Errors, w.Rejected,
            LatencyDocument.Milliseconds(w.ProcessingTime.Mean), LatencyDocument.Milliseconds(w.ProcessingTime.Percentile(0.99)), w.LastError, w.LastHeard, w.Backlogged);
}

/// <summary>The limits the broker enforces (its options), for the dashboard to show use against.</summary>
internal sealed record LimitsDocument(
    long MaxHeldBytes, int MaxMessageSize, int MaxPendingPerClient, long MaxBytesPerClient, int MaxQueuedPerService, int MaxQueuedPerPeer,
    int MaxStoredRequests, double SlowConsumerTimeoutMs, bool RequiresAuthentication, string? Store)
{
    public static LimitsDocument Of(BrokerOptions o) =>
        new(o.MaxHeldBytes, o.MaxMessageSize, o.MaxPendingPerClient, o.MaxBytesPerClient, o.MaxQueuedPerService, o.MaxQueuedPerPeer,
            o.MaxStoredRequests, o.SlowConsumerTimeout.TotalMilliseconds, o.RequiresAuthentication, o.Store?.Description);
}

/// <summary>Source-generated JSON of the endpoint's documents (camelCase, as JavaScript reads them).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(StatsDocument))]
[JsonSerializable(typeof(IReadOnlyList<Sample>))]
internal sealed partial class ManagementJsonContext : JsonSerializerContext;
