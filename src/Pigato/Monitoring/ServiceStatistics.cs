using System.Text.Json;

namespace Pigato.Monitoring;

/// <summary>The JSON of the <c>$stats</c> core service: one object per worker, as NATS's <c>$SRV.STATS</c> gives per endpoint.</summary>
internal static class ServiceStatistics
{
    /// <summary>
    /// The workers' statistics: an object of arrays by service when <paramref name="byService"/>, else one array.
    /// Times are in milliseconds.
    /// </summary>
    public static byte[] ToJson(IEnumerable<WorkerSnapshot> workers, bool byService) => Internal.JsonFrame.Build((workers, byService), static (json, s) =>
    {
        if (!s.byService)
        {
            WriteArray(json, s.workers);
            return;
        }

        json.WriteStartObject();
        foreach (var service in s.workers.GroupBy(w => w.Service, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            json.WritePropertyName(service.Key);
            WriteArray(json, service);
        }

        json.WriteEndObject();
    });

    /// <summary>The requests quarantined as poison, the newest first: what <c>$stats</c> answers for <c>"$poisoned"</c>.</summary>
    public static byte[] ToJson(IEnumerable<PoisonedRequestSnapshot> poisoned) => Internal.JsonFrame.Build(poisoned, static (json, requests) =>
    {
        json.WriteStartArray();
        foreach (var request in requests)
        {
            json.WriteStartObject();
            json.WriteString("service", request.Service);
            json.WriteString("client", request.Client);
            json.WriteString("rid", request.Rid);
            json.WriteNumber("bytes", request.Bytes);
            json.WriteNumber("workersLost", request.WorkersLost);
            json.WriteString("dataPrefix", request.DataPrefix);
            json.WriteString("at", request.At);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    });

    private static void WriteArray(Utf8JsonWriter json, IEnumerable<WorkerSnapshot> workers)
    {
        json.WriteStartArray();
        foreach (var worker in workers.OrderBy(w => w.Id, StringComparer.Ordinal))
        {
            json.WriteStartObject();
            json.WriteString("id", worker.Id);
            json.WriteString("service", worker.Service);
            json.WriteNumber("requests", worker.Requests);
            json.WriteNumber("served", worker.Served);
            json.WriteNumber("errors", worker.Errors);
            json.WriteNumber("rejected", worker.Rejected);
            json.WriteNumber("inFlight", worker.InFlight);
            json.WriteNumber("concurrency", worker.Concurrency);
            json.WriteNumber("averageMs", Math.Round(worker.ProcessingTime.Mean.TotalMilliseconds, 3));
            json.WriteNumber("p99Ms", Math.Round(worker.ProcessingTime.Percentile(0.99).TotalMilliseconds, 3));
            if (worker.LastError is { } error)
            {
                json.WriteString("lastError", error);
            }
            else
            {
                json.WriteNull("lastError");
            }

            json.WriteString("lastHeard", worker.LastHeard);
            json.WriteEndObject();
        }

        json.WriteEndArray();
    }
}
